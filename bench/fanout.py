"""Fan-out benchmark: the room socket against the Channels tutorial's consumer.

    make bench                                   every scenario, 1 server process
    .venv/bin/python -m bench.fanout --scenario ramp --processes 1,2
    .venv/bin/python -m bench.fanout --quick     a few seconds (what `make test` runs)

For each scenario and each number of server processes, the bench starts the
Procfile's server in production mode (DEBUG=0, Postgres, Redis) on a database of
its own, opens authenticated WebSocket clients spread over the processes, sends
messages on a schedule, and prints: sockets held, messages saved per second,
frames delivered per second, send-to-receive latency over every recipient, lost
and duplicated, server CPU per 1,000 frames, server memory per socket, and the
load generator's own CPU. Then the same clients drive the baseline consumer
(bench/baseline.py) on fresh server processes, and the report prints
ours/baseline against the goal (>= 0.9x frames/s, <= 1.2x p99).

Scenarios:
    rooms     100 rooms of 10 members, 1 message/s per room
    bigroom   one room of 1,000 members, 2 messages/s
    ramp      one room of 200 members, the rate raised step by step until p99
              passes 250 ms or anything is lost; prints the rate reached
    idle      as many sockets as allowed (5,000 by default), memory per socket
"""

import argparse
import contextlib
import json
import secrets
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bench import environment
from bench.environment import BenchEnvironment
from bench.loadgen import ClientSpec, LoadGenerator, StepPlan
from bench.procstat import CpuMeter, cpu_seconds, rss_bytes
from bench.servers import VARIANTS, client_compression, start_servers, stop_servers
from bench.stats import StepResult, number, print_table, ratio

KINDS = ("ours", "baseline")
PATHS = {"ours": "/ws/rooms/{slug}/", "baseline": "/ws/bench-baseline/{slug}/"}
FPS_GOAL, P99_GOAL = 0.9, 1.2
LEAD_SECONDS = 0.3  # between handing a plan to the workers and its first message
SETTLE_AFTER_CONNECT_SECONDS = 1.0  # presence announcements of a connect burst calm down
MAX_RAMP_STEPS = 14


@dataclass(frozen=True)
class Scenario:
    name: str
    rooms: int
    members: int
    rate_per_room: float = 1.0  # messages per second per room (the start rate, for a ramp)
    duration: float = 10.0
    mode: str = "steady"  # steady | ramp | idle

    def describe(self):
        shape = f"{self.rooms:,} room(s) x {self.members:,} members"
        if self.mode == "idle":
            return f"{shape}, idle (one delivery check)"
        if self.mode == "ramp":
            return f"{shape}, rate from {self.rate_per_room:g} msg/s per room, {self.duration:g} s steps"
        return f"{shape}, {self.rate_per_room:g} msg/s per room, {self.duration:g} s"


SCENARIOS = {
    "rooms": Scenario("rooms", rooms=100, members=10, rate_per_room=1.0),
    "bigroom": Scenario("bigroom", rooms=1, members=1000, rate_per_room=2.0),
    "ramp": Scenario("ramp", rooms=1, members=200, rate_per_room=5.0, duration=5.0, mode="ramp"),
    "idle": Scenario("idle", rooms=50, members=100, mode="idle"),
}
QUICK = Scenario("quick", rooms=2, members=5, rate_per_room=5.0, duration=3.0)


# --- one run: a kind of consumer on N server processes ---------------------------------


@dataclass
class Run:
    """Servers, clients and the rooms they share, for one kind of consumer."""

    kind: str
    servers: list
    loadgen: LoadGenerator
    senders: tuple  # per room, the client ids of its members
    slugs: list
    db_name: str

    def pids(self):
        pids = {f"server:{s.port}": s.pid for s in self.servers}
        pids.update({f"loadgen:{i}": pid for i, pid in enumerate(self.loadgen.pids)})
        return pids


def client_specs(kind, rooms, servers, *, compression=None):
    """One client per member; client i talks to server i mod N (how clients spread over processes)."""
    specs, senders, client_id = [], [], 0
    for index, room in enumerate(rooms):
        ids = []
        for member in room.members:
            server = servers[client_id % len(servers)]
            path = PATHS[kind].format(slug=room.slug)
            specs.append(
                ClientSpec(
                    client_id, index, server.ws_url + path, server.origin, member.session_key, compression
                )
            )
            ids.append(client_id)
            client_id += 1
        senders.append(tuple(ids))
    return specs, tuple(senders)


def postgres_cpu(db_name):
    """{pid: CPU seconds} of the database's backends (the pool's connections)."""
    return {pid: cpu_seconds(pid) for pid in environment.postgres_backend_pids(db_name)}


def settle_timeout(duration):
    """How long after a step's last send its messages may still arrive."""
    return max(10.0, 2 * duration)


def measure_step(run, *, step, rate, duration):
    """Send at `rate` for `duration`, wait for every delivery, and read every meter."""
    plan = StepPlan(
        step=step,
        start_ns=time.monotonic_ns() + int(LEAD_SECONDS * 1e9),
        duration=duration,
        rate=rate,
        senders=run.senders,
    )
    meter = CpuMeter(run.pids())
    redis_before, pg_before = environment.redis_cpu_seconds(), postgres_cpu(run.db_name)
    saved_before = environment.message_count(run.slugs)
    meter.start(time.monotonic())
    sending = run.loadgen.send(plan)
    settled = run.loadgen.settle(plan, sending["sent"], timeout=settle_timeout(duration))
    meter.stop(time.monotonic())
    pg_after = postgres_cpu(run.db_name)
    result = StepResult(
        rate=rate,
        duration=duration,
        sockets=settled["held"],
        sent=sum(sending["sent"].values()),
        send_errors=sending["send_errors"],
        worst_send_lag_ms=sending["worst_lag_ms"],
        saved=environment.message_count(run.slugs) - saved_before,
        delivered=settled["delivered"],
        lost=settled["lost"],
        duplicated=settled["duplicated"],
        stray=settled["stray"],
        server_cpu=meter.total("server:"),
        server_busiest_share=max(
            meter.share_of_core(label) for label in meter.used if label.startswith("server:")
        ),
        loadgen_shares=[meter.share_of_core(label) for label in meter.used if label.startswith("loadgen:")],
        redis_cpu=environment.redis_cpu_seconds() - redis_before,
        postgres_cpu=sum(after - pg_before.get(pid, 0.0) for pid, after in pg_after.items()),
        machine_busy_share=meter.machine_busy_share,
        other_frames=settled["other_frames"],
        other_bytes=settled["other_bytes"],
        closed_codes=dict(settled["closed_codes"]),
    )
    ours = meter.total("server:") + meter.total("loadgen:") + result.redis_cpu + result.postgres_cpu
    result.others_share = max(0.0, meter.machine_busy_seconds - ours) / meter.wall
    last = settled["last_receipt_ns"]
    result.window = (last - plan.start_ns) / 1e9 if last > plan.start_ns else duration
    result.set_latencies(settled["latencies_ns"])
    return result


def passes_ramp_step(result, rate, p99_limit_ms):
    """Whether a ramp step held: nothing lost or doubled, p99 under the limit, sent on time."""
    return (
        result.clean
        and result.p99_ms is not None
        and result.p99_ms <= p99_limit_ms
        and result.sent_per_second >= 0.9 * rate
    )


def ramp(run, scenario, args):
    """Raise the rate by --ramp-factor per step until a step fails; return every step."""
    rate, steps, retried = scenario.rate_per_room * scenario.rooms, [], False
    for step in range(1, 2 * MAX_RAMP_STEPS + 1):
        result = measure_step(run, step=step, rate=rate, duration=scenario.duration)
        steps.append(result)
        held = passes_ramp_step(result, rate, args.p99_limit_ms)
        knee = not held and retried
        print_ramp_step(run.kind, result, "" if held else ("  <- knee" if knee else "  (failed: once more)"))
        if knee:
            break
        if held:
            rate *= args.ramp_factor
        retried = not held  # a failed step is run again once: other work on the machine makes noise
    return steps


def print_ramp_step(kind, result, mark):
    print(
        f"  {kind:8} {result.rate:8.1f} msg/s  {result.frames_per_second:9,.0f} frames/s  "
        f"p50 {number(result.p50_ms):>7} ms  p99 {number(result.p99_ms):>7} ms  "
        f"lost {result.lost:,}  dup {result.duplicated:,}  server {result.server_busiest_share:.0%}  "
        f"loadgen {max(result.loadgen_shares):.0%}  other work {result.others_share:.2f} cores{mark}",
        flush=True,
    )


def run_kind(kind, scenario, rooms, processes, args, env, run_dir, tag):
    """Start servers and clients for one kind of consumer, measure, stop everything."""
    log_dir = run_dir / f"{scenario.name}-{processes}p-{kind}"
    log_dir.mkdir(parents=True)
    with contextlib.ExitStack() as stack:  # on the way out: clients closed first, then servers stopped
        servers = start_servers(
            processes, env=env, log_dir=log_dir, server=args.server, variants=args.variant
        )
        stack.callback(stop_servers, servers)
        loadgen = LoadGenerator(args.loadgen_processes, tag)
        stack.callback(loadgen.close)
        specs, senders = client_specs(kind, rooms, servers, compression=client_compression(args.variant))
        run = Run(kind, servers, loadgen, senders, [room.slug for room in rooms], env.db_name)
        rss_before = sum(rss_bytes(s.pid) for s in servers)
        started = time.monotonic()
        held, failures = loadgen.connect(specs)
        connect_seconds = time.monotonic() - started
        time.sleep(SETTLE_AFTER_CONNECT_SECONDS)
        rss_after = sum(rss_bytes(s.pid) for s in servers)
        connect_frames = loadgen.others()
        check = measure_step(run, step=0, rate=float(len(rooms)), duration=1.0)  # one message per room
        if scenario.mode == "ramp":
            steps = ramp(run, scenario, args)
        elif scenario.mode == "idle":
            steps = [check]
        else:
            rate = scenario.rate_per_room * len(rooms)
            steps = [measure_step(run, step=1, rate=rate, duration=scenario.duration)]
    return {
        "scenario": scenario.name,
        "processes": processes,
        "kind": kind,
        "wanted": len(specs),
        "held": held,
        "connect_failures": dict(failures),
        "connect_seconds": connect_seconds,
        "connect_frames": connect_frames,
        "memory_per_socket": (rss_after - rss_before) / held if held else None,
        "server_rss_after_connect": rss_after,
        "check": check,
        "steps": steps,
        "log_problems": [line for s in servers for line in s.log_problems()],
        "log_dir": str(log_dir),
    }


# --- reports ---------------------------------------------------------------------------


def headline_step(run):
    """The step a run is judged by: the only one, or the ramp's last step that held."""
    if run["scenario_mode"] != "ramp":
        return run["steps"][-1]
    held = [s for s in run["steps"] if passes_ramp_step(s, s.rate, run["p99_limit_ms"])]
    return held[-1] if held else run["steps"][0]  # none held: the first, and the report says so


def _kib(value):
    return "-" if value is None else f"{value / 1024:,.1f}"


def report_rows(runs):
    """(label, value per run) rows of the main table."""
    steps = [headline_step(run) for run in runs]

    def each(get):
        return [("-" if s is None else get(s)) for s in steps]

    return [
        ("sockets held", *[f"{r['held']:,}/{r['wanted']:,}" for r in runs]),
        ("connect time s", *[number(r["connect_seconds"], 2) for r in runs]),
        ("frames while connecting (MB)", *[_frames(*r["connect_frames"]) for r in runs]),
        ("server memory per socket KiB", *[_kib(r["memory_per_socket"]) for r in runs]),
        ("rate asked msg/s", *each(lambda s: number(s.rate))),
        ("messages sent /s", *each(lambda s: number(s.sent_per_second))),
        ("messages saved /s", *each(lambda s: number(s.saved_per_second))),
        ("frames delivered /s", *each(lambda s: number(s.frames_per_second, 0))),
        ("latency p50 ms", *each(lambda s: number(s.p50_ms, 2))),
        ("latency p95 ms", *each(lambda s: number(s.p95_ms, 2))),
        ("latency p99 ms", *each(lambda s: number(s.p99_ms, 2))),
        ("latency max ms", *each(lambda s: number(s.max_ms, 2))),
        ("lost", *each(lambda s: number(s.lost))),
        ("duplicated", *each(lambda s: number(s.duplicated))),
        ("server CPU s per 1,000 frames", *each(lambda s: number(s.server_cpu_per_1000_frames, 3))),
        ("busiest server process, % of a core", *each(lambda s: f"{s.server_busiest_share:.0%}")),
        ("load generator, % of a core per worker", *each(lambda s: _shares(s.loadgen_shares))),
        ("Redis CPU s", *each(lambda s: number(s.redis_cpu, 2))),
        ("Postgres CPU s (bench backends)", *each(lambda s: number(s.postgres_cpu, 2))),
        ("machine CPU busy", *each(lambda s: f"{s.machine_busy_share:.0%}")),
        ("other work on the machine, cores", *each(lambda s: number(s.others_share, 2))),
        ("other frames (member lists, ...)", *each(lambda s: number(s.other_frames))),
        ("other frames MB", *each(lambda s: number(s.other_bytes / 1e6, 2))),
    ]


def _frames(count, size):
    return f"{count:,} ({size / 1e6:,.1f})"


def _shares(shares):
    return " ".join(f"{share:.0%}" for share in shares)


def print_run_report(scenario, processes, args, runs):
    title = (
        f"\n== {scenario.name}: {scenario.describe()}; {processes} {args.server} process(es), "
        f"{args.layer} layer{''.join(', ' + v for v in args.variant)} =="
    )
    print_table(title, [run["kind"] for run in runs], report_rows(runs))
    by_kind = {run["kind"]: run for run in runs}
    if scenario.mode == "ramp":
        for run in runs:
            step = headline_step(run)
            held = passes_ramp_step(step, step.rate, args.p99_limit_ms)
            reached = (
                f"{step.rate:,.1f} msg/s ({step.frames_per_second:,.0f} frames/s)" if held else "none held"
            )
            limit = f"p99 <= {args.p99_limit_ms:g} ms and nothing lost"
            print(f"  {run['kind']}: rate reached with {limit}: {reached}")
    if set(by_kind) == set(KINDS):
        print_comparison(by_kind["ours"], by_kind["baseline"])
    for run in runs:
        print_notes(run)


def common_step(ours, baseline):
    """The p99s to compare: of the same rate. For a ramp, the highest rate both held."""
    if ours["scenario_mode"] != "ramp":
        return ours["steps"][-1], baseline["steps"][-1]
    held = {}
    for run in (ours, baseline):
        for step in run["steps"]:
            if passes_ramp_step(step, step.rate, run["p99_limit_ms"]):
                held.setdefault(round(step.rate, 3), []).append(step)
    both = [steps for steps in held.values() if len(steps) == 2]
    return tuple(both[-1]) if both else (None, None)


def print_comparison(ours, baseline):
    """ours/baseline for frames/s (for a ramp: the rates reached) and p99 (at one rate), against the goal."""
    a, b = headline_step(ours), headline_step(baseline)
    same_a, same_b = common_step(ours, baseline)
    if same_a is None:
        print("  ours/baseline: not comparable (no rate held by both)")
        return
    fps = ratio(a.frames_per_second, b.frames_per_second)
    p99 = ratio(same_a.p99_ms, same_b.p99_ms)
    fps_verdict = "met" if fps is not None and fps >= FPS_GOAL else "NOT met"
    p99_verdict = "met" if p99 is not None and p99 <= P99_GOAL else "NOT met"
    print(f"  ours/baseline frames/s: {number(fps, 2)} (goal >= {FPS_GOAL}: {fps_verdict})")
    at = f" at {same_a.rate:,.1f} msg/s" if same_a else ""
    print(f"  ours/baseline p99{at}: {number(p99, 2)} (goal <= {P99_GOAL}: {p99_verdict})")
    print(
        f"  lost/duplicated: ours {a.lost}/{a.duplicated}, baseline {b.lost}/{b.duplicated}"
        + (f"; ours saved {a.saved:,} of {a.sent:,} messages sent" if ours["kind"] == "ours" else "")
    )


def print_notes(run):
    notes = []
    for step in run["steps"]:
        notes += step.limits()
        if step.lost:
            notes.append(
                f"lost counts what had not arrived {settle_timeout(step.duration):g} s after the last send "
                "(late or dropped: a backlog longer than that shows as lost)"
            )
    if run["check"].lost or run["check"].duplicated:
        notes.append(f"the delivery check lost {run['check'].lost} and duplicated {run['check'].duplicated}")
    if run["connect_failures"]:
        notes.append(f"sockets refused or failed: {run['connect_failures']}")
    closed = run["steps"][-1].closed_codes
    if closed:
        notes.append(f"sockets closed by the server: {closed}")
    if run["log_problems"]:
        notes.append(
            f"{len(run['log_problems'])} error line(s) in the server logs ({run['log_dir']}), first: "
            + run["log_problems"][0][:200]
        )
    for note in dict.fromkeys(notes):
        print(f"  note ({run['kind']}): {note}")


def print_scale_out(results):
    """With several process counts: each one's frames/s (a ramp's: at the rate reached), and the ratio."""
    by_scenario = {}
    for run in results:
        by_scenario.setdefault((run["scenario"], run["kind"]), []).append(run)
    for (scenario, kind), runs in by_scenario.items():
        if len(runs) < 2:
            continue
        first = headline_step(runs[0]).frames_per_second
        print(f"\n== scale-out, {scenario} ({kind}) ==")
        for run in runs:
            step = headline_step(run)
            print(
                f"  {run['processes']} process(es): {step.frames_per_second:,.0f} frames/s, "
                f"p99 {number(step.p99_ms, 2)} ms, "
                f"ratio to {runs[0]['processes']}: {number(ratio(step.frames_per_second, first), 2)}"
            )


# --- the command -------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--quick", action="store_true", help="2 rooms x 5 members for 3 s (make test)")
    parser.add_argument("--processes", default="1", help="server processes; a list such as 1,2 compares them")
    parser.add_argument("--duration", type=float, help="seconds of each measured step")
    parser.add_argument("--rooms", type=int, help="override the scenario's number of rooms")
    parser.add_argument("--members", type=int, help="override the scenario's members per room")
    parser.add_argument("--rate", type=float, help="messages per second per room (the ramp's start)")
    parser.add_argument("--ramp-factor", type=float, default=1.5)
    parser.add_argument("--p99-limit-ms", type=float, default=250.0)
    parser.add_argument("--max-sockets", type=int, default=5000, help="cap of the idle scenario")
    parser.add_argument("--only", choices=[*KINDS, "both"], default="both")
    parser.add_argument("--loadgen-processes", type=int, default=2)
    parser.add_argument("--server", choices=["uvicorn", "daphne"], default="uvicorn")
    parser.add_argument("--layer", choices=["core", "pubsub"], default="core")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        choices=[*VARIANTS],
        help="measure a change applied or undone (bench/asgi_variants.py); repeatable",
    )
    parser.add_argument("--log-level", default="INFO", help="the app's LOG_LEVEL in the servers")
    parser.add_argument("--db-name", default="chat_bench")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--keep-logs", action="store_true", help="kept anyway when a server logged an error")
    parser.add_argument("--json", type=Path, help="write every figure here")
    return parser.parse_args(argv)


def chosen_scenarios(args, socket_limit):
    if args.quick:
        chosen = [QUICK]
    elif args.scenario == "all":
        chosen = list(SCENARIOS.values())
    else:
        chosen = [SCENARIOS[args.scenario]]
    return [_with_overrides(scenario, args, socket_limit) for scenario in chosen]


def _with_overrides(scenario, args, socket_limit):
    changes = {
        key: value
        for key, value in (
            ("rooms", args.rooms),
            ("members", args.members),
            ("rate_per_room", args.rate),
            ("duration", args.duration),
        )
        if value is not None
    }
    scenario = replace(scenario, **changes)
    if scenario.mode == "idle":
        cap = min(args.max_sockets, socket_limit)
        members = min(scenario.members, cap)
        scenario = replace(scenario, members=members, rooms=max(1, cap // members))
    return scenario


def socket_limit(args):
    """Sockets one run may open: the open-file limit of one process (a server process holds
    every socket of a 1-process run; each load generator worker holds its share), less room
    for its Postgres and Redis connections and files."""
    soft = environment.raise_open_file_limit(args.max_sockets + 1000)
    return max(10, soft - 500)


def stop_on_sigterm():
    """SIGTERM (and SIGINT, which a background job ignores) end the run through its
    `finally` blocks: servers stopped, database dropped, Redis keys deleted."""

    def end(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, end)
    signal.signal(signal.SIGINT, end)


def main(argv=None):
    args = parse_args(argv)
    stop_on_sigterm()
    args.processes = [int(n) for n in str(args.processes).split(",")]
    kinds = KINDS if args.only == "both" else (args.only,)
    scenarios = chosen_scenarios(args, socket_limit(args))
    env = BenchEnvironment(
        db_name=args.db_name, layer=args.layer, log_level=args.log_level, variants=tuple(args.variant)
    )
    run_dir = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    tag = secrets.token_hex(4)
    for line in environment.machine_summary():
        print(line)
    print(f"database {env.db_name}, Redis prefix {env.prefix}, server logs in {run_dir}", flush=True)
    results, status = [], 1
    try:
        environment.database_recreate(env.db_name)
        environment.django_setup(env)
        environment.migrate()
        for scenario in scenarios:
            started = time.monotonic()
            rooms = environment.rooms_create(
                label=f"b{scenario.name}", rooms=scenario.rooms, members=scenario.members
            )
            print(
                f"\n{scenario.name}: created {scenario.rooms * scenario.members:,} users with sessions "
                f"in {time.monotonic() - started:.1f} s",
                flush=True,
            )
            for processes in args.processes:
                runs = [run_kind(kind, scenario, rooms, processes, args, env, run_dir, tag) for kind in kinds]
                for run in runs:
                    run.update(scenario_mode=scenario.mode, p99_limit_ms=args.p99_limit_ms)
                print_run_report(scenario, processes, args, runs)
                results += runs
        print_scale_out(results)
        if args.json:
            args.json.write_text(json.dumps(_jsonable(results, args), indent=1, default=str))
        status = exit_status(results)
    finally:
        environment.redis_prefix_delete(env.prefix)
        if not args.keep_db:
            environment.database_drop(env.db_name)
        keep_logs = args.keep_logs or status != 0 or any(run["log_problems"] for run in results)
        if keep_logs:
            print(f"server logs kept in {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    return status


def exit_status(results):
    """1 when a steady or idle run lost or doubled a message (a ramp stops at its first loss)."""
    broken = [
        r
        for r in results
        if r["scenario_mode"] != "ramp" and any(not s.clean for s in [r["check"], *r["steps"]])
    ]
    for run in broken:
        print(f"FAILED: {run['scenario']} {run['kind']} lost or duplicated messages", file=sys.stderr)
    return 1 if broken else 0


def _jsonable(results, args):
    runs = []
    for run in results:
        runs.append(
            {
                **{k: v for k, v in run.items() if k not in ("check", "steps")},
                "check": run["check"].as_dict(),
                "steps": [step.as_dict() for step in run["steps"]],
            }
        )
    return {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}, "runs": runs}


if __name__ == "__main__":
    sys.exit(main())
