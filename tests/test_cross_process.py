"""Two real server processes (the Procfile's uvicorn) sharing Postgres and Redis.

These tests speak to the servers over real sockets with the `websockets`
client, as a browser's htmx ws extension would: JSON frames in, HTML out.
"""

import asyncio
import json
import re
import uuid

import pytest
from asgiref.sync import sync_to_async
from websockets.exceptions import ConnectionClosed, InvalidStatus

from accounts.services import user_session_end
from messages_app.models import Message
from tests.db_locks import room_row_locked, until_a_query_waits_for_a_lock
from tests.factories import MembershipFactory, RoomFactory
from tests.server_sockets import (
    RECEIVE_TIMEOUT_SECONDS,
    DeafToCloseSocket,
    receive_until,
    room_socket,
    session_cookie,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_worker_thread_connections"),
]

MESSAGE_ID = re.compile(r'id="message-(\d+)"')


@sync_to_async
def room_with_members(count):
    room = RoomFactory()
    return room, [MembershipFactory(room=room).user for _ in range(count)]


@sync_to_async
def messages_in(room):
    return list(Message.objects.filter(room=room).order_by("id").values("id", "author_id", "body"))


def holds_message(body):
    return lambda frame: MESSAGE_ID.search(frame) is not None and body in frame


async def send_and_see_echo(socket, body):
    """Send a message and wait for its own broadcast: the socket is then in its room's group."""
    await socket.send(json.dumps({"body": body}))
    return await receive_until(socket, holds_message(body))


async def test_message_sent_through_one_server_reaches_a_socket_on_the_other(asgi_server, asgi_server_b):
    room, (alice, bob) = await room_with_members(2)
    alice_cookie, bob_cookie = await session_cookie(alice), await session_cookie(bob)
    tag = uuid.uuid4().hex[:8]
    marks = asgi_server.log_mark(), asgi_server_b.log_mark()

    async with (
        room_socket(asgi_server, room, alice_cookie) as on_a,
        room_socket(asgi_server_b, room, bob_cookie) as on_b,
    ):
        # Each socket proves it joined its group before anything else is sent.
        await send_and_see_echo(on_a, f"alice ready {tag}")
        await send_and_see_echo(on_b, f"bob ready {tag}")

        body = f"hello from server B {tag} <b>not bold</b>"
        await on_b.send(json.dumps({"body": body, "HEADERS": {"HX-Request": "true"}}))
        escaped = "hello from server B " + tag + " &lt;b&gt;not bold&lt;/b&gt;"
        frame = await receive_until(on_a, holds_message(escaped))
        ack = await receive_until(on_b, lambda frame: 'id="composer-errors"' in frame)

        # And the other way round: A to B.
        await on_a.send(json.dumps({"body": f"reply through server A {tag}"}))
        await receive_until(on_b, holds_message(f"reply through server A {tag}"))

    saved = await messages_in(room)
    assert [row["body"] for row in saved] == [
        f"alice ready {tag}",
        f"bob ready {tag}",
        body,
        f"reply through server A {tag}",
    ]
    message = saved[2]
    assert message["author_id"] == bob.pk
    assert MESSAGE_ID.search(frame).group(1) == str(message["id"])
    assert f'data-author="{bob.pk}"' in frame
    assert "<p" not in ack.split('id="composer-errors"', 1)[1], f"the send was refused: {ack}"
    asgi_server.assert_clean_log(since=marks[0])
    asgi_server_b.assert_clean_log(since=marks[1])


async def test_frame_over_64_kib_closes_the_socket_with_1009_and_saves_nothing(asgi_server):
    room, (alice,) = await room_with_members(1)
    cookie = await session_cookie(alice)
    tag = uuid.uuid4().hex[:8]
    mark = asgi_server.log_mark()

    async with room_socket(asgi_server, room, cookie) as socket:
        # Just under the cap: padding in an ignored key, and the message goes through.
        under = json.dumps({"body": f"under the cap {tag}", "pad": "x" * 60_000})
        assert len(under.encode()) < 64 * 1024
        await socket.send(under)
        await receive_until(socket, holds_message(f"under the cap {tag}"))

        # Over the cap: the same short body, so only the frame size can refuse it.
        over = json.dumps({"body": f"over the cap {tag}", "pad": "x" * (64 * 1024)})
        assert len(over.encode()) > 64 * 1024
        await socket.send(over)
        with pytest.raises(ConnectionClosed) as closed:
            await receive_until(socket, lambda frame: False, timeout=RECEIVE_TIMEOUT_SECONDS + 5)

    assert closed.value.rcvd is not None, "the server did not send a close frame"
    assert closed.value.rcvd.code == 1009
    assert [row["body"] for row in await messages_in(room)] == [f"under the cap {tag}"]
    asgi_server.assert_clean_log(since=mark)


async def test_a_reply_to_a_socket_the_server_already_closed_is_dropped_without_error(asgi_server):
    """A message is still being saved when the server closes its socket (here because
    the user signed out): the message is saved, and its reply, with nowhere to go, is no error."""
    room, (alice,) = await room_with_members(1)
    cookie = await session_cookie(alice)
    tag = uuid.uuid4().hex[:8]

    async with DeafToCloseSocket(asgi_server, room, cookie) as socket:
        await socket.send(json.dumps({"body": f"joined {tag}"}))
        await socket.receive_until(holds_message(f"joined {tag}"))
        mark = asgi_server.log_mark()
        async with room_row_locked(room) as locker:
            await socket.send(json.dumps({"body": f"saved after the close {tag}"}))
            await until_a_query_waits_for_a_lock(locker)
            await sync_to_async(user_session_end)(user_id=alice.pk, session_key=cookie)
            assert await socket.until_server_closes() == 4401
        # The lock is gone: the message saves, and its reply finds the socket closing.
        await wait_for_log(asgi_server, "socket disconnected", since=mark)

    assert f"saved after the close {tag}" in [row["body"] for row in await messages_in(room)]
    asgi_server.assert_clean_log(since=mark)


async def wait_for_log(server, text, *, since, timeout=RECEIVE_TIMEOUT_SECONDS):
    for _ in range(int(timeout / 0.05)):
        if text in server.log_text(since=since):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the server never logged {text!r}")


async def test_cross_origin_handshake_is_refused_with_403(asgi_server):
    room, (alice,) = await room_with_members(1)
    cookie = await session_cookie(alice)
    mark = asgi_server.log_mark()

    with pytest.raises(InvalidStatus) as refused:
        async with room_socket(asgi_server, room, cookie, origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403

    # The same cookie from the server's own origin is let in (so the 403 is the origin's doing).
    async with room_socket(asgi_server, room, cookie) as socket:
        await send_and_see_echo(socket, "same origin is fine")
    asgi_server.assert_clean_log(since=mark)
