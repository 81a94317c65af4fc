"""The room socket, over real WebSockets through the project's ASGI stack
(origin check, session auth, URL routing) on the real Redis channel layer."""

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings

from config.asgi import application
from config.realtime import room_group
from messages_app.models import Message
from tests.db_locks import room_row_locked, until_a_query_waits_for_a_lock
from tests.factories import RoomFactory, UserFactory
from tests.live_server import database_url
from tests.sockets import (
    COMPOSER_CLEARED,
    ORIGIN,
    joined_socket,
    make_member,
    open_socket,
    receive_all,
    receive_until,
    session_cookie,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("channel_layer", "close_worker_thread_connections"),
]


@pytest.fixture
async def room():
    return await sync_to_async(RoomFactory)()


async def test_two_members_both_receive_a_message_which_is_saved(room):
    alice, bob = await make_member(room), await make_member(room)
    alice_socket, bob_socket = await joined_socket(room, alice), await joined_socket(room, bob)
    await receive_until(alice_socket, f"hello from {bob.username}")

    await alice_socket.send_json_to({"body": "Lunch at noon?", "HEADERS": {"HX-Request": "true"}})

    for socket in (alice_socket, bob_socket):
        frames = await receive_until(socket, "Lunch at noon?")
        assert 'hx-swap-oob="beforeend:#messages"' in frames[-1]
    message = await Message.objects.select_related("author").aget(body="Lunch at noon?")
    assert message.author == alice and message.room_id == room.pk
    assert f'id="message-{message.pk}"' in frames[-1]
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_script_in_a_body_arrives_escaped(room):
    alice = await make_member(room)
    socket = await joined_socket(room, alice)

    await socket.send_json_to({"body": "<script>alert('x')</script>"})

    frame = (await receive_until(socket, "message-"))[-1]
    assert "<script>" not in frame
    assert "&lt;script&gt;alert('x')&lt;/script&gt;" in frame
    await socket.disconnect()


async def test_anonymous_socket_is_closed_with_4401(room):
    socket = await open_socket(room.slug)
    assert "You are logged out" in await socket.receive_from(timeout=2)  # in place of the composer
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4401}


async def test_non_member_of_public_room_is_closed_with_4403(room):
    outsider = await sync_to_async(UserFactory)()
    socket = await open_socket(room.slug, outsider)
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4403}


async def test_banned_member_is_closed_with_4403(room):
    from django.utils import timezone

    banned = await make_member(room, banned_at=timezone.now())
    socket = await open_socket(room.slug, banned)
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4403}


async def test_unknown_room_is_closed_with_4404():
    user = await sync_to_async(UserFactory)()
    socket = await open_socket("no-such-room", user)
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4404}


async def test_private_room_of_others_is_closed_with_4404_like_a_missing_one():
    private_room = await sync_to_async(RoomFactory)(is_private=True)
    outsider = await sync_to_async(UserFactory)()
    socket = await open_socket(private_room.slug, outsider)
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": 4404}


async def test_cross_origin_handshake_is_refused(room):
    alice = await make_member(room)
    communicator = WebsocketCommunicator(
        application,
        f"/ws/rooms/{room.slug}/",
        headers=[(b"origin", b"http://evil.example"), await session_cookie(alice)],
    )
    connected, _ = await communicator.connect()
    assert not connected


@pytest.mark.parametrize(
    "frame, error",
    [
        ("this is not json", "not JSON"),
        ("[1, 2, 3]", "not a JSON object"),
        ('{"text": "no body key"}', "no text to send"),
        ('{"body": 42}', "no text to send"),
        ('{"body": "   \\n  "}', "Write something"),
        (json.dumps({"body": "x" * 4001}), "at most 4,000 characters"),
    ],
)
async def test_bad_frame_gets_an_error_fragment_saves_nothing_and_socket_still_works(room, frame, error):
    alice = await make_member(room)
    socket = await joined_socket(room, alice)
    saved_before = await Message.objects.acount()

    await socket.send_to(text_data=frame)

    reply = await socket.receive_from(timeout=3)
    assert 'id="composer-errors"' in reply and error in reply
    assert await Message.objects.acount() == saved_before
    await socket.send_json_to({"body": "still here"})
    await receive_until(socket, "still here")
    await socket.disconnect()


async def test_binary_frame_gets_an_error_fragment(room):
    alice = await make_member(room)
    socket = await joined_socket(room, alice)
    await socket.send_to(bytes_data=b"\x00\x01binary")
    assert "Send text" in await socket.receive_from(timeout=3)
    await socket.send_json_to({"body": "after binary"})
    await receive_until(socket, "after binary")
    await socket.disconnect()


async def test_frame_over_64_kib_is_closed_with_1009_and_not_saved(room):
    alice = await make_member(room)
    socket = await joined_socket(room, alice)
    saved_before = await Message.objects.acount()

    await socket.send_to(text_data=json.dumps({"body": "x" * (64 * 1024)}))

    assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 1009}
    assert await Message.objects.acount() == saved_before


async def test_a_message_4000_characters_long_is_accepted(room):
    alice = await make_member(room)
    socket = await joined_socket(room, alice)
    await socket.send_json_to({"body": "y" * 4000})
    await receive_until(socket, "y" * 4000)
    assert await Message.objects.filter(body="y" * 4000).aexists()
    await socket.disconnect()


async def test_shell_group_send_reaches_open_pages(room):
    """The seed's shell test: a group_send from anywhere shows up in open pages."""
    alice = await make_member(room)
    socket = await joined_socket(room, alice)
    html = '<div hx-swap-oob="beforeend:#messages"><p>from the shell</p></div>'

    await sync_to_async(async_to_sync(get_channel_layer().group_send))(
        room_group(room), {"type": "chat.html", "html": html}
    )

    assert await socket.receive_from(timeout=3) == html
    await socket.disconnect()


SHELL_SNIPPET = """
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from config.realtime import room_group
from rooms.models import Room

room = Room.objects.get(slug="{slug}")
html = '<div hx-swap-oob="beforeend:#messages"><p>Hello from the shell</p></div>'
async_to_sync(get_channel_layer().group_send)(room_group(room), {{"type": "chat.html", "html": html}})
"""


async def test_readme_shell_test_from_another_process_reaches_open_pages(room):
    """The README's snippet, run in `manage.py shell` as a separate process."""
    alice = await make_member(room)
    socket = await joined_socket(room, alice)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url(),
        "CHANNEL_LAYER_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
    }
    command = [sys.executable, "manage.py", "shell", "-c", SHELL_SNIPPET.format(slug=room.slug)]

    result = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert "Hello from the shell" in await socket.receive_from(timeout=3)
    await socket.disconnect()


@pytest.mark.timeout(60)
async def test_socket_left_idle_for_15_seconds_still_receives(room):
    alice, bob = await make_member(room), await make_member(room)
    idle, sender = await joined_socket(room, alice), await joined_socket(room, bob)
    await receive_until(idle, "hello from " + bob.username)

    await asyncio.sleep(15)
    await sender.send_json_to({"body": "are you still there?"})

    await receive_until(idle, "are you still there?", timeout=5)
    await idle.disconnect()
    await sender.disconnect()


@pytest.mark.timeout(120)
async def test_300_sockets_closing_at_once_leave_no_error_in_the_log(room, caplog):
    members = [await make_member(room) for _ in range(300)]
    cookies = [await session_cookie(member) for member in members]
    sockets = []
    for cookie in cookies:
        socket = WebsocketCommunicator(application, f"/ws/rooms/{room.slug}/", headers=[ORIGIN, cookie])
        assert (await socket.connect(timeout=10))[0]
        sockets.append(socket)
    # Every socket is in the group: one broadcast reaches all 300.
    await sockets[0].send_json_to({"body": "all hands"})
    await asyncio.gather(*(receive_until(socket, "all hands", timeout=10) for socket in sockets))

    with caplog.at_level(logging.WARNING):
        await asyncio.gather(*(socket.disconnect(timeout=10) for socket in sockets))
        await asyncio.sleep(0.5)

    problems = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert problems == [], [record.getMessage() for record in problems]


# --- frames handled in turn, off the event loop's way ----------------------------------


@contextlib.asynccontextmanager
async def message_waiting_for_the_database(room, socket, body):
    """The socket sends `body`, and its save waits (for the room's row) until the block ends."""
    async with room_row_locked(room) as locker:
        await socket.send_json_to({"body": body})
        await until_a_query_waits_for_a_lock(locker)
        yield


async def test_a_socket_keeps_receiving_while_its_own_message_waits_for_the_database(room):
    alice = await make_member(room)
    socket = await joined_socket(room, alice)

    async with message_waiting_for_the_database(room, socket, "saved after the lock"):
        await get_channel_layer().group_send(
            room_group(room), {"type": "chat.html", "html": "<p>meanwhile</p>"}
        )
        assert "meanwhile" in await socket.receive_from(timeout=3)

    await receive_all(socket, "saved after the lock", COMPOSER_CLEARED)
    assert await Message.objects.filter(body="saved after the lock").aexists()
    await socket.disconnect()


async def test_messages_from_one_socket_are_saved_in_the_order_sent(room):
    alice = await make_member(room)
    socket = await joined_socket(room, alice)
    bodies = [f"in order #{i:02d}" for i in range(20)]

    for body in bodies:
        await socket.send_json_to({"body": body})

    await receive_all(socket, *bodies, timeout=10)
    saved = Message.objects.filter(body__startswith="in order #").order_by("id")
    assert [message.body async for message in saved] == bodies
    await socket.disconnect()


async def test_a_socket_closed_while_its_message_waits_ends_only_once_the_message_is_saved(room):
    """So a server shutting down gracefully (it waits for its open sockets) loses nothing."""
    alice = await make_member(room)
    socket = await joined_socket(room, alice)

    async with message_waiting_for_the_database(room, socket, "last words"):
        closing = asyncio.create_task(socket.disconnect(timeout=10))
        await asyncio.sleep(0.5)
        assert not closing.done()

    await closing
    assert await Message.objects.filter(body="last words").aexists()
