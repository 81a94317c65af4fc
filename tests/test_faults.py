"""Faults injected for real against the Procfile's uvicorn servers, spoken to over
real WebSockets (the `websockets` client) as a browser's htmx ws extension would:

- Redis stops and comes back empty (a dedicated redis-server on its own port);
- Postgres is cut off and comes back (a TCP proxy between the server and Postgres);
- a server process is killed (SIGKILL) and its pages move to the surviving one;
- a socket outlives the channel layer's group expiry.

Each server here is the test's own (its own environment), stopped when the test ends.
"""

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from websockets.exceptions import ConnectionClosed

from messages_app.models import Message
from tests.factories import MembershipFactory, RoomFactory
from tests.live_server import HOST, database_url, free_port
from tests.server_sockets import RECEIVE_TIMEOUT_SECONDS, receive_until, room_socket, session_cookie
from tests.tcp_proxy import TcpProxy

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_worker_thread_connections"),
]

MESSAGE_ID = re.compile(r'\bid="message-(\d+)"')
CATCH_UP_NUDGE = 'id="catch-up"'
COMPOSER_ERROR = re.compile(r'id="composer-errors"[^>]*>\s*<p[^>]*>\s*\S', re.DOTALL)


# --- the servers and services a test runs ---------------------------------------------------------


@pytest.fixture
def fault_server(asgi_server_factory):
    """Start a server with environment overrides; it is stopped when the test ends."""
    started = []

    def start(name, env=None):
        server = asgi_server_factory(name, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class RedisServer:
    """A redis-server of the test's own, without persistence: a restart comes back empty."""

    def __init__(self, log_path):
        self.port = free_port()
        self.log_path = log_path
        self.process = None

    @property
    def url(self):
        return f"redis://{HOST}:{self.port}/0"

    def start(self, timeout=5):
        address = ["--port", str(self.port), "--bind", HOST]
        command = ["redis-server", *address, "--save", "", "--appendonly", "no"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        client = redis.Redis(host=HOST, port=self.port, socket_timeout=1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    client.close()
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not answer:\n{self.log_path.read_text()}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@pytest.fixture
def dedicated_redis(tmp_path):
    server = RedisServer(tmp_path / "redis.log").start()
    yield server
    server.stop()


@pytest.fixture
def postgres_proxy():
    """A TCP proxy in front of the test's Postgres (which the test itself reaches directly)."""
    db = settings.DATABASES["default"]
    proxy = TcpProxy(upstream=(db.get("HOST") or HOST, int(db.get("PORT") or 5432))).start()
    yield proxy
    proxy.cut()


def through_proxy(url, proxy):
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    hostport = f"{HOST}:{proxy.port}"
    return parts._replace(netloc=f"{netloc[0]}@{hostport}" if len(netloc) == 2 else hostport).geturl()


# --- rows, sockets, pages -----------------------------------------------------------------------


@sync_to_async
def room_with_members(count):
    room = RoomFactory()
    return room, [MembershipFactory(room=room).user for _ in range(count)]


@sync_to_async
def saved_bodies(room):
    return list(Message.objects.filter(room=room).order_by("id").values_list("body", flat=True))


async def receives(socket, predicate, *, within):
    """Does a frame satisfying `predicate` arrive within `within` seconds?"""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            while not predicate(await socket.recv()):
                pass
            return True
    return False


def holds_message(body):
    return lambda frame: MESSAGE_ID.search(frame) is not None and body in frame


def message_id(frame):
    return int(MESSAGE_ID.search(frame).group(1))


async def send_and_see_echo(socket, body):
    """Send a message and wait for its broadcast back: the socket is in its room's group."""
    await socket.send(json.dumps({"body": body}))
    return await receive_until(socket, holds_message(body))


def _http_get(url, cookie=None):
    request = urllib.request.Request(url, headers={"Cookie": f"sessionid={cookie}"} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def http_get(server, path, cookie=None):
    return await asyncio.to_thread(_http_get, f"{server.url}{path}", cookie)


async def health(server):
    status, body = await http_get(server, "/healthz")
    return status, json.loads(body)


async def wait_for_health(server, *, timeout):
    deadline = time.monotonic() + timeout
    while (answer := await health(server))[0] != 200:
        assert time.monotonic() < deadline, f"/healthz still answers {answer} after {timeout} s"
        await asyncio.sleep(0.2)


async def missed_message_ids(server, room, cookie, after_id):
    """What a reconnecting page asks for: the messages after the newest it shows."""
    status, html = await http_get(server, f"/rooms/{room.slug}/messages/?after={after_id}", cookie)
    assert status == 200, html
    return [int(pk) for pk in MESSAGE_ID.findall(html)]


# --- server logs ------------------------------------------------------------------------------------

# A log entry starts with our formatter's "<date> <time> LEVEL logger message" or uvicorn's "LEVEL: ...";
# traceback lines belong to the entry above them.
ENTRY_START = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ |[A-Z]+:\s)")
PROBLEM = re.compile(r"Traceback|^\S+ \S+ (ERROR|CRITICAL) |^(ERROR|CRITICAL):", re.MULTILINE)


def log_entries(text):
    entries = []
    for line in text.splitlines():
        if ENTRY_START.match(line) or not entries:
            entries.append(line)
        else:
            entries[-1] += "\n" + line
    return entries


def assert_only_expected_problems(server, *, since, expected=()):
    """No traceback or error in the server's log but entries whose first line matches
    one of `expected` (failures the app logs on purpose while a service is down)."""
    unexpected = [
        entry
        for entry in log_entries(server.log_text(since))
        if PROBLEM.search(entry)
        and not any(re.search(pattern, entry.splitlines()[0]) for pattern in expected)
    ]
    assert not unexpected, (
        f"server {server.name} logged unexpected problems:\n" + "\n".join(unexpected)[-6000:]
    )


# --- Redis down ----------------------------------------------------------------------------------

# What the app logs, by design, while Redis is down (first lines of log entries): the
# broadcasts it could not send (the database holds the message; pages catch up), the
# presence it could not read or refresh (a roster or refresh may fall in the outage),
# and the failed health checks with their 503s. Not on this list, so failing the test:
# uvicorn's "Exception in ASGI application" (a consumer crashed), asyncio's "Task
# exception was never retrieved", any other error.
REDIS_OUTAGE_LOG = (
    r" WARNING config\.channel_layer channel layer: Redis is (unreachable|back)",
    r" ERROR config\.realtime group_send failed ",
    r" WARNING rooms\.presence\.\w+ presence (unavailable|refresh failed) ",
    r" ERROR config\.health health: channel layer check failed$",
    r" ERROR django\.request Service Unavailable: /healthz$",
)


async def test_redis_outage_saves_sends_keeps_sockets_and_recovers_by_itself(dedicated_redis, fault_server):
    server = fault_server("redis-outage", env={"REDIS_URL": dedicated_redis.url})
    room, (alice, bob) = await room_with_members(2)
    alice_cookie, bob_cookie = await session_cookie(alice), await session_cookie(bob)
    tag = uuid.uuid4().hex[:8]

    async with (
        room_socket(server, room, alice_cookie) as alice_ws,
        room_socket(server, room, bob_cookie) as bob_ws,
    ):
        await send_and_see_echo(alice_ws, f"alice ready {tag}")
        bob_last_seen = message_id(await send_and_see_echo(bob_ws, f"bob ready {tag}"))
        await receive_until(alice_ws, holds_message(f"bob ready {tag}"))
        mark = server.log_mark()

        dedicated_redis.stop()
        during = f"sent while Redis is down {tag}"
        await alice_ws.send(json.dumps({"body": during}))
        # The sender sees her message (sent to her socket directly), and it is saved.
        sent_during = message_id(await receive_until(alice_ws, holds_message(during)))
        assert (await saved_bodies(room))[-1] == during
        assert await health(server) == (503, {"database": "ok", "channel_layer": "unavailable"})

        dedicated_redis.start()  # on the same port, empty: every group is gone
        await wait_for_health(server, timeout=5)
        # Both sockets, still open, rejoin their groups and are told to catch up.
        await receive_until(bob_ws, lambda frame: CATCH_UP_NUDGE in frame)
        await receive_until(alice_ws, lambda frame: CATCH_UP_NUDGE in frame)
        assert await missed_message_ids(server, room, bob_cookie, bob_last_seen) == [sent_during]

        after = f"sent once Redis is back {tag}"
        await bob_ws.send(json.dumps({"body": after}))
        await receive_until(alice_ws, holds_message(after))
        await receive_until(bob_ws, holds_message(after))

    assert await saved_bodies(room) == [f"alice ready {tag}", f"bob ready {tag}", during, after]
    assert_only_expected_problems(server, since=mark, expected=REDIS_OUTAGE_LOG)


# --- Postgres down -------------------------------------------------------------------------------

# What the app logs, by design, while Postgres is cut off: the send it could not save
# (the page shows an error and keeps the draft), and the pool's reconnection attempts.
POSTGRES_OUTAGE_LOG = (
    r" ERROR messages_app\.consumers socket action failed ",
    r" WARNING psycopg\.pool ",
)


@pytest.mark.allow_error_log  # the outage is a server fault, logged as one
async def test_postgres_outage_refuses_sends_visibly_saves_nothing_and_recovers_by_itself(
    postgres_proxy, fault_server
):
    server = fault_server(
        "postgres-outage", env={"DATABASE_URL": through_proxy(database_url(), postgres_proxy)}
    )
    room, (alice,) = await room_with_members(1)
    cookie = await session_cookie(alice)
    tag = uuid.uuid4().hex[:8]

    async with room_socket(server, room, cookie) as socket:
        await send_and_see_echo(socket, f"before the cut {tag}")
        mark = server.log_mark()

        postgres_proxy.cut()  # refuses new connections and drops the pool's open ones
        during = f"sent while Postgres is away {tag}"
        await socket.send(json.dumps({"body": during, "client_id": str(uuid.uuid4())}))
        # Within the pool's timeout (DATABASE_POOL_TIMEOUT, 5 s), on the socket that stays open.
        refusal = await receive_until(socket, COMPOSER_ERROR.search, timeout=10)
        assert during not in refusal
        assert await saved_bodies(room) == [f"before the cut {tag}"]

        postgres_proxy.restore()  # on the same port: no server restart, the next send is saved
        await send_and_see_echo(socket, f"after the cut {tag}")

    assert await saved_bodies(room) == [f"before the cut {tag}", f"after the cut {tag}"]
    assert_only_expected_problems(server, since=mark, expected=POSTGRES_OUTAGE_LOG)


# --- a server process killed ---------------------------------------------------------------------


async def test_pages_of_a_killed_server_reconnect_to_the_other_and_miss_nothing(fault_server):
    server_a, server_b = fault_server("doomed"), fault_server("survivor")
    room, (alice, bob) = await room_with_members(2)
    alice_cookie, bob_cookie = await session_cookie(alice), await session_cookie(bob)
    tag = uuid.uuid4().hex[:8]
    mark_b = server_b.log_mark()

    async with room_socket(server_b, room, bob_cookie) as bob_ws:
        async with room_socket(server_a, room, alice_cookie) as alice_ws:
            await send_and_see_echo(alice_ws, f"alice ready {tag}")
            await send_and_see_echo(bob_ws, f"bob ready {tag}")
            alice_last_seen = message_id(await receive_until(alice_ws, holds_message(f"bob ready {tag}")))

            os.killpg(server_a.pid, signal.SIGKILL)
            with pytest.raises(ConnectionClosed):
                await receive_until(alice_ws, lambda frame: False, timeout=5)

        # While alice's page has no socket, bob goes on talking.
        meanwhile = [f"while alice is away {n} {tag}" for n in range(3)]
        sent_meanwhile = [message_id(await send_and_see_echo(bob_ws, body)) for body in meanwhile]

        # The load balancer sends alice's page to the survivor: it reconnects, then catches up.
        async with room_socket(server_b, room, alice_cookie) as alice_ws:
            assert await missed_message_ids(server_b, room, alice_cookie, alice_last_seen) == sent_meanwhile
            assert sent_meanwhile == sorted(sent_meanwhile)
            await send_and_see_echo(bob_ws, f"live again {tag}")
            await receive_until(alice_ws, holds_message(f"live again {tag}"))

    assert server_a.process.wait(timeout=5) == -signal.SIGKILL
    server_b.assert_clean_log(since=mark_b)


# --- a socket open longer than the group expiry ---------------------------------------------------

GROUP_EXPIRY_SECONDS = 2
IDLE_SECONDS = 2 * GROUP_EXPIRY_SECONDS
# A frame on the same server arrives within milliseconds: two seconds without it is a miss.
MISS_AFTER_SECONDS = 2


async def message_after_idling_past_group_expiry(fault_server, *, refresh_seconds, within):
    """Bob's socket idles for twice the layer's group expiry, then alice sends:
    does bob's socket receive her message? (It is saved either way.)"""
    env = {"CHANNEL_GROUP_EXPIRY": str(GROUP_EXPIRY_SECONDS), "CHANNEL_GROUP_REFRESH": str(refresh_seconds)}
    server = fault_server(f"group-refresh-{refresh_seconds}", env=env)
    room, (alice, bob) = await room_with_members(2)
    alice_cookie, bob_cookie = await session_cookie(alice), await session_cookie(bob)
    tag = uuid.uuid4().hex[:8]
    mark = server.log_mark()

    async with (
        room_socket(server, room, alice_cookie) as alice_ws,
        room_socket(server, room, bob_cookie) as bob_ws,
    ):
        await send_and_see_echo(alice_ws, f"alice ready {tag}")
        await receive_until(bob_ws, holds_message(f"alice ready {tag}"))  # bob is in the room's group
        await asyncio.sleep(IDLE_SECONDS)

        body = f"after a long silence {tag}"
        await alice_ws.send(json.dumps({"body": body}))
        received = await receives(bob_ws, holds_message(body), within=within)

    assert (await saved_bodies(room))[-1] == body
    server.assert_clean_log(since=mark)
    return received


async def test_a_socket_open_longer_than_the_group_expiry_still_receives(fault_server):
    assert await message_after_idling_past_group_expiry(
        fault_server, refresh_seconds=1, within=RECEIVE_TIMEOUT_SECONDS
    )


async def test_without_the_group_refresh_the_same_socket_would_miss_messages(fault_server):
    """The control: the scenario above really outlives the group expiry (so it can fail)."""
    assert not await message_after_idling_past_group_expiry(
        fault_server, refresh_seconds=0, within=MISS_AFTER_SECONDS
    )
