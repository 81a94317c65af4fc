"""Abuse across real server processes (the Procfile's uvicorn) sharing Postgres and
Redis: the message rate limit and the socket cap count per user whichever process
a socket reaches; a killed process does not lock its users out; failed logins count
across processes; and logging out or changing a password closes sockets (4401)."""

import asyncio
import http.client
import os
import re
import signal
import uuid
from urllib.parse import urlencode

import pytest
from asgiref.sync import sync_to_async
from django.core import mail
from django.test import Client
from websockets.exceptions import ConnectionClosed

from messages_app.models import Message
from tests.factories import PASSWORD, MembershipFactory, RoomFactory
from tests.server_sockets import receive_until, room_socket
from tests.test_cross_process import send_and_see_echo

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_worker_thread_connections"),
]

# Servers with limits small enough to reach in a test: 3 messages a minute, 2 sockets per
# user, and socket entries that run out 3 s after their process stops refreshing them.
LIMITS = {"CHAT_RATE_LIMIT": "3/60", "CHAT_MAX_SOCKETS_PER_USER": "2", "CHAT_PRESENCE_TTL": "3"}
ENTRY_TTL_SECONDS = 3


@pytest.fixture(scope="module")
def limited_servers(asgi_server_factory):
    servers = [asgi_server_factory(f"limited-{name}", env=LIMITS) for name in ("a", "b")]
    yield servers
    for server in servers:
        server.stop()


def _client_logged_in(user):
    client = Client()
    client.force_login(user)
    return client


client_logged_in = sync_to_async(_client_logged_in)


@sync_to_async
def room_with_members(count):
    room = RoomFactory()
    return room, [MembershipFactory(room=room).user for _ in range(count)]


async def cookie_of(user):
    return (await client_logged_in(user)).cookies["sessionid"].value


async def close_code(socket, *, timeout=5):
    """Read frames until the server closes the socket: (its close code, the frames before)."""
    frames = []
    with pytest.raises(ConnectionClosed) as closed:
        await receive_until(socket, lambda frame: frames.append(frame) and False, timeout=timeout)
    assert closed.value.rcvd is not None, "the server did not send a close frame"
    return closed.value.rcvd.code, frames


def slowed_down(frame):
    return 'id="composer-errors"' in frame and "Slow down" in frame


async def admitted(server, room, cookie, body):
    """Open a socket and post through it: True, or False when it is closed with 4429."""
    async with room_socket(server, room, cookie) as socket:
        try:
            await send_and_see_echo(socket, body)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 4429
            return False
    return True


# --- the message rate limit ------------------------------------------------------------------------


async def test_the_rate_limit_counts_a_users_messages_on_every_process(limited_servers):
    server_a, server_b = limited_servers
    room, (alice, bob) = await room_with_members(2)
    alice_cookie, tag = await cookie_of(alice), uuid.uuid4().hex[:6]
    marks = [server.log_mark() for server in limited_servers]

    async with (
        room_socket(server_a, room, alice_cookie) as on_a,
        room_socket(server_b, room, alice_cookie) as on_b,
    ):
        for n, socket in enumerate([on_a, on_b, on_a]):  # three allowed, through both processes
            await send_and_see_echo(socket, f"allowed {n} {tag}")

        await on_b.send(f'{{"body": "fourth {tag}"}}')
        refusal = await receive_until(on_b, slowed_down)
        await on_a.send(f'{{"body": "fifth {tag}"}}')
        await receive_until(on_a, slowed_down)

        # Another member is not slowed down by Alice.
        async with room_socket(server_a, room, await cookie_of(bob)) as bob_socket:
            await send_and_see_echo(bob_socket, f"bob is fine {tag}")

    assert "Your message is still here" in refusal
    bodies = [body async for body in Message.objects.filter(author=alice).values_list("body", flat=True)]
    assert sorted(bodies) == [f"allowed {n} {tag}" for n in range(3)]
    for server, mark in zip(limited_servers, marks, strict=True):
        server.assert_clean_log(since=mark)


# --- the socket cap ------------------------------------------------------------------------------------


async def test_the_socket_cap_counts_a_users_sockets_on_every_process(limited_servers):
    server_a, server_b = limited_servers
    room, (carol,) = await room_with_members(1)
    cookie = await cookie_of(carol)

    async with room_socket(server_a, room, cookie), room_socket(server_b, room, cookie) as on_b:
        for server in (server_a, server_b):  # a third, wherever it goes, is refused
            async with room_socket(server, room, cookie) as refused:
                code, frames = await close_code(refused)
            assert code == 4429
            assert any("too many tabs" in frame for frame in frames)

        await on_b.close()
        # Closing one frees its place at once: its entry, refreshed every second, would
        # otherwise count for 2 s more.
        async with asyncio.timeout(ENTRY_TTL_SECONDS - 1):
            while not await admitted(server_a, room, cookie, "in the freed place"):
                await asyncio.sleep(0.1)


async def test_a_killed_process_does_not_lock_its_users_out(limited_servers, asgi_server_factory):
    server_a, _ = limited_servers
    doomed = asgi_server_factory("limited-doomed", env=LIMITS)
    room, (dave,) = await room_with_members(1)
    cookie = await cookie_of(dave)
    sockets = [await room_socket(doomed, room, cookie) for _ in range(2)]

    os.killpg(doomed.pid, signal.SIGKILL)  # no disconnect handler runs
    doomed.process.wait()
    killed_at = asyncio.get_running_loop().time()

    assert not await admitted(server_a, room, cookie, "too soon")  # the dead process's sockets count
    while not await admitted(server_a, room, cookie, "back in"):  # until their entries run out
        assert asyncio.get_running_loop().time() - killed_at < ENTRY_TTL_SECONDS + 3
        await asyncio.sleep(0.25)
    assert not await Message.objects.filter(body="too soon").aexists()
    for socket in sockets:
        socket.transport.abort()


# --- failed logins ---------------------------------------------------------------------------------------


def log_in_over_http(server, login, password):
    """Fill in a real server's login form as a browser would, through a load balancer
    (one Host for every process: allauth counts failures per site and login).
    Returns the status and the page."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    headers = {"Host": "localhost"}
    connection.request("GET", "/accounts/login/", headers=headers)
    response = connection.getresponse()
    form = response.read().decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", response.headers["Set-Cookie"]).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urlencode({"login": login, "password": password, "csrfmiddlewaretoken": token})
    headers |= {"Cookie": f"csrftoken={csrf_cookie}", "Content-Type": "application/x-www-form-urlencoded"}
    connection.request("POST", "/accounts/login/", body=body, headers=headers)
    response = connection.getresponse()
    page = response.read().decode()
    connection.close()
    return response.status, page


async def test_failed_logins_count_on_every_process(asgi_server, asgi_server_b):
    _, (erin,) = await room_with_members(1)
    for server in [asgi_server, asgi_server_b] * 2 + [asgi_server]:  # five, through both processes
        status, page = await asyncio.to_thread(log_in_over_http, server, erin.username, "wrong")
        assert status == 200 and "not correct" in page

    status, page = await asyncio.to_thread(log_in_over_http, asgi_server_b, erin.username, PASSWORD)

    assert status == 200 and "Too many failed login attempts" in page  # even with the right password


# --- a login that ends closes its sockets (4401) -----------------------------------------------------


async def two_sessions_with_sockets(server_a, server_b):
    """A member logged in twice (two browsers), each with a socket on another process."""
    room, (user,) = await room_with_members(1)
    clients = [await client_logged_in(user), await client_logged_in(user)]
    sockets = [
        await room_socket(server, room, client.cookies["sessionid"].value)
        for server, client in zip((server_a, server_b), clients, strict=True)
    ]
    for n, socket in enumerate(sockets):
        await send_and_see_echo(socket, f"session {n} ready")
    return room, user, clients, sockets


async def assert_signed_out(socket):
    code, frames = await close_code(socket)
    assert code == 4401
    assert any("You are logged out" in frame for frame in frames)


async def test_logging_out_closes_the_sockets_of_that_session_only(asgi_server, asgi_server_b):
    _, _, (first, _), (first_socket, second_socket) = await two_sessions_with_sockets(
        asgi_server, asgi_server_b
    )

    response = await sync_to_async(first.post)("/accounts/logout/")

    assert response.status_code == 302
    await assert_signed_out(first_socket)
    await send_and_see_echo(second_socket, "the other browser is still logged in")
    await second_socket.close()


async def test_changing_the_password_closes_the_sockets_of_the_other_sessions(asgi_server, asgi_server_b):
    room, _, (first, _), (first_socket, second_socket) = await two_sessions_with_sockets(
        asgi_server, asgi_server_b
    )
    old_cookie, new_password = first.cookies["sessionid"].value, "a-New-password-2026"

    response = await sync_to_async(first.post)(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": new_password, "password2": new_password},
    )

    assert response.status_code == 302
    await assert_signed_out(second_socket)
    # The browser that changed it stays logged in, under a new session key and cookie: its
    # socket is told to reconnect (1012), and the reconnection logs in with the new cookie.
    assert (await close_code(first_socket))[0] == 1012
    new_cookie = first.cookies["sessionid"].value
    assert new_cookie != old_cookie
    async with room_socket(asgi_server, room, new_cookie) as socket:
        await send_and_see_echo(socket, "I changed it myself")
    async with room_socket(asgi_server, room, old_cookie) as socket:
        await assert_signed_out(socket)


async def test_a_password_set_in_the_admin_or_a_shell_closes_every_socket(asgi_server, asgi_server_b):
    _, user, _, sockets = await two_sessions_with_sockets(asgi_server, asgi_server_b)

    @sync_to_async
    def set_password():  # what the admin's password form and `manage.py changepassword` do
        user.set_password("set-by-Staff-2026")
        user.save()

    await set_password()

    for socket in sockets:
        await assert_signed_out(socket)


async def test_a_password_reset_closes_every_socket(asgi_server, asgi_server_b):
    _, user, _, sockets = await two_sessions_with_sockets(asgi_server, asgi_server_b)

    @sync_to_async
    def reset_password():  # allauth's whole flow, from the email's link
        client = Client()
        client.post("/accounts/password/reset/", {"email": user.email})
        link = re.search(r"http://\S+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body).group(1)
        form_url = client.get(link)["Location"]
        password = "Reset-password-2026"
        return client.post(form_url, {"password1": password, "password2": password})

    response = await reset_password()

    assert response.status_code == 302
    for socket in sockets:
        await assert_signed_out(socket)
