"""The load generator: WebSocket clients in 1-2 worker processes (no Django here).

Each worker runs an asyncio loop (uvloop when installed) holding its share of
the clients, one reader task per socket. The parent (bench.fanout) drives the
workers over a pipe, step by step:

    connect(specs)           open the sockets; report how many are held
    send(plan)               send this worker's share of the plan's messages on time
    settle(step, sent)       wait until every socket has every message sent to its
                             room (or a timeout), then count lost and duplicated
                             and return every recipient's latency
    close()

Every message body is `bench <run tag> <step> <sender id> <seq> <send time ns>`,
so that whatever the server wraps it in (our HTML fragment, the baseline's JSON),
the receiver reads back who sent it, which one it was and when. Send and receive
times are CLOCK_MONOTONIC, which is one clock for every process of the machine.
"""

import asyncio
import json
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

MESSAGE = re.compile(r"bench ([0-9a-f]+) (\d+) (\d+) (\d+) (\d+)")
CONNECT_CONCURRENCY = 64
CONNECT_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class ClientSpec:
    client_id: int
    room: int  # index into the plan's rooms
    url: str
    origin: str
    cookie: str
    compression: str | None = None  # "deflate" only to measure per-message deflate on (--variant deflate-on)


@dataclass(frozen=True)
class StepPlan:
    """Messages i = 0, 1, ... at start + i / rate, for rooms in turn; in each room
    its members take turns to send. Every worker computes the same schedule and
    sends the messages whose sender it holds."""

    step: int
    start_ns: int
    duration: float
    rate: float  # messages per second, all rooms together
    senders: tuple  # per room: the client ids of its members

    def schedule(self):
        """(send time ns, sender client id) of every message of the step, in time order."""
        interval_ns, end_ns = 1e9 / self.rate, self.start_ns + int(self.duration * 1e9)
        rooms, i = len(self.senders), 0
        while True:
            at = self.start_ns + int(i * interval_ns)
            if at >= end_ns:
                return
            members = self.senders[i % rooms]
            yield at, members[(i // rooms) % len(members)]
            i += 1


class Client:
    def __init__(self, spec):
        self.spec = spec
        self.socket = None
        self.reader = None
        self.closed_code = None


class Worker:
    """The clients of one worker process and what they received, per step."""

    def __init__(self, tag):
        self.tag = tag
        self.clients = {}
        self.receipts = defaultdict(lambda: defaultdict(Counter))  # step -> client id -> (sender, seq) -> n
        self.latencies = defaultdict(list)  # step -> ns, first receipt of each message by each recipient
        self.last_receipt_ns = defaultdict(int)
        self.other_frames = 0  # member lists, composer resets, typing...
        self.other_bytes = 0

    # --- sockets -------------------------------------------------------------------

    async def connect(self, specs):
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        failures = Counter()

        async def open_one(spec):
            async with gate:
                try:
                    await self._open(spec)
                except Exception as error:  # reported, counted: the run goes on with the rest
                    failures[_failure_reason(error)] += 1

        await asyncio.gather(*(open_one(spec) for spec in specs))
        return {"held": sum(c.socket is not None for c in self.clients.values()), "failures": failures}

    async def _open(self, spec):
        socket = await connect(
            spec.url,
            origin=spec.origin,
            additional_headers={"Cookie": f"sessionid={spec.cookie}"},
            compression=spec.compression,
            open_timeout=CONNECT_TIMEOUT_SECONDS,
            close_timeout=5,
            ping_interval=None,  # no keep-alive traffic in the figures
            max_size=None,  # member lists of big rooms can be large
        )
        client = Client(spec)
        client.socket = socket
        client.reader = asyncio.create_task(self._read(client))
        self.clients[spec.client_id] = client

    async def _read(self, client):
        try:
            async for frame in client.socket:
                self._receive(client.spec.client_id, frame)
        except ConnectionClosed:
            pass
        client.closed_code = client.socket.close_code

    def _receive(self, client_id, frame):
        now = time.monotonic_ns()
        if isinstance(frame, bytes):
            frame = frame.decode(errors="replace")
        found = MESSAGE.search(frame)
        if found is None or found[1] != self.tag:
            self.other_frames += 1
            self.other_bytes += len(frame)
            return
        step, sender, seq, sent_ns = (int(value) for value in found.groups()[1:])
        counter = self.receipts[step][client_id]
        counter[sender, seq] += 1
        if counter[sender, seq] == 1:
            self.latencies[step].append(now - sent_ns)
        self.last_receipt_ns[step] = now

    def held(self):
        return sum(c.socket is not None and c.closed_code is None for c in self.clients.values())

    def closed_codes(self):
        return Counter(c.closed_code for c in self.clients.values() if c.closed_code is not None)

    async def close(self):
        await asyncio.gather(
            *(c.socket.close() for c in self.clients.values() if c.socket is not None),
            return_exceptions=True,
        )
        await asyncio.gather(*(c.reader for c in self.clients.values() if c.reader), return_exceptions=True)

    # --- a step --------------------------------------------------------------------

    async def send(self, plan):
        """Send this worker's messages of the plan, each at its time (or at once when late)."""
        sent, errors, worst_lag_ns = Counter(), 0, 0
        self.other_frames = self.other_bytes = 0  # counted per step, from here to its settle
        for at, sender in plan.schedule():
            client = self.clients.get(sender)
            if client is None or client.closed_code is not None:
                continue
            delay_ns = at - time.monotonic_ns()
            if delay_ns > 0:
                await asyncio.sleep(delay_ns / 1e9)
            else:
                worst_lag_ns = max(worst_lag_ns, -delay_ns)
            body = f"bench {self.tag} {plan.step} {sender} {sent[sender]} {time.monotonic_ns()}"
            try:
                await client.socket.send(json.dumps({"body": body}))
            except ConnectionClosed:
                errors += 1
                continue
            sent[sender] += 1
        return {"sent": sent, "send_errors": errors, "worst_lag_ms": worst_lag_ns / 1e6}

    async def settle(self, plan, sent, timeout):
        """Wait until each socket has every message sent to its room, then count.

        `sent` is every worker's {sender id: messages sent}: a socket expects, from
        each member of its room, seq 0 .. sent-1, exactly once.
        """
        expected = [{(s, q) for s in members for q in range(sent.get(s, 0))} for members in plan.senders]
        recipients = [c for c in self.clients.values() if c.socket is not None]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._all_arrived(plan.step, recipients, expected):
            await asyncio.sleep(0.05)
        return self._count(plan.step, recipients, expected)

    def _all_arrived(self, step, recipients, expected):
        receipts = self.receipts[step]
        return all(len(receipts[c.spec.client_id]) >= len(expected[c.spec.room]) for c in recipients)

    def _count(self, step, recipients, expected):
        receipts = self.receipts.pop(step, {})
        lost = duplicated = stray = delivered = 0
        for client in recipients:
            got, wanted = receipts.get(client.spec.client_id, Counter()), expected[client.spec.room]
            arrived = sum(1 for key in got if key in wanted)
            delivered += arrived
            lost += len(wanted) - arrived
            duplicated += sum(n - 1 for n in got.values() if n > 1)
            stray += sum(1 for key in got if key not in wanted)
        return {
            "delivered": delivered,
            "lost": lost,
            "duplicated": duplicated,
            "stray": stray,
            "latencies_ns": self.latencies.pop(step, []),
            "last_receipt_ns": self.last_receipt_ns.pop(step, 0),
            "recipients": len(recipients),
            "held": self.held(),
            "closed_codes": self.closed_codes(),
            "other_frames": self.other_frames,
            "other_bytes": self.other_bytes,
        }


def _failure_reason(error):
    if isinstance(error, InvalidStatus):
        return f"HTTP {error.response.status_code}"
    return type(error).__name__


async def _serve(conn, tag):
    """Answer the parent's commands until it says close."""
    worker, loop = Worker(tag), asyncio.get_running_loop()
    while True:
        command, *args = await loop.run_in_executor(None, conn.recv)
        if command == "connect":
            conn.send(await worker.connect(*args))
        elif command == "send":
            conn.send(await worker.send(*args))
        elif command == "settle":
            conn.send(await worker.settle(*args))
        elif command == "others":
            conn.send({"frames": worker.other_frames, "bytes": worker.other_bytes})
        elif command == "close":
            await worker.close()
            conn.send({"closed": True})
            return


def worker_main(conn, tag):
    """Entry point of a worker process."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(conn, tag))
    else:
        uvloop.run(_serve(conn, tag))


# --- the parent's side ---------------------------------------------------------------


class LoadGenerator:
    """Worker processes, driven from the parent: every call goes to all of them."""

    def __init__(self, processes, tag):
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # no inherited Django, sockets or loops
        self.pipes, self.processes = [], []
        for _ in range(processes):
            parent_end, child_end = context.Pipe()
            process = context.Process(target=worker_main, args=(child_end, tag), daemon=True)
            process.start()
            self.pipes.append(parent_end)
            self.processes.append(process)

    @property
    def pids(self):
        return [process.pid for process in self.processes]

    def _all(self, *command):
        for pipe in self.pipes:
            pipe.send(command)
        return [pipe.recv() for pipe in self.pipes]

    def connect(self, specs):
        """Spread the clients over the workers; return sockets held and failures by reason."""
        shares = [specs[i :: len(self.pipes)] for i in range(len(self.pipes))]
        for pipe, share in zip(self.pipes, shares, strict=True):
            pipe.send(("connect", share))
        replies = [pipe.recv() for pipe in self.pipes]
        failures = sum((Counter(reply["failures"]) for reply in replies), Counter())
        return sum(reply["held"] for reply in replies), failures

    def send(self, plan):
        replies = self._all("send", plan)
        sent = sum((Counter(reply["sent"]) for reply in replies), Counter())
        return {
            "sent": sent,
            "send_errors": sum(reply["send_errors"] for reply in replies),
            "worst_lag_ms": max(reply["worst_lag_ms"] for reply in replies),
        }

    def settle(self, plan, sent, timeout):
        replies = self._all("settle", plan, dict(sent), timeout)
        merged = {key: sum(reply[key] for reply in replies) for key in SUMMED}
        merged["latencies_ns"] = [ns for reply in replies for ns in reply["latencies_ns"]]
        merged["last_receipt_ns"] = max(reply["last_receipt_ns"] for reply in replies)
        merged["closed_codes"] = sum((Counter(reply["closed_codes"]) for reply in replies), Counter())
        return merged

    def others(self):
        """Frames that were not bench messages (member lists...) received so far, and their bytes."""
        replies = self._all("others")
        return sum(r["frames"] for r in replies), sum(r["bytes"] for r in replies)

    def close(self):
        try:
            self._all("close")
        finally:
            for process in self.processes:
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()


SUMMED = ("delivered", "lost", "duplicated", "stray", "recipients", "held", "other_frames", "other_bytes")
