"""Bad input over the room socket and into message_post: each gets a clear refusal
(an error fragment for #composer-errors, or a close code at the protocol level),
nothing is saved, and the socket (or the server) goes on working.

What tests/test_consumer.py and tests/test_reliability.py already cover is not
repeated here: non-JSON text, a JSON list, a missing or numeric body, a blank body,
4,001 characters, binary frames (in process), frames over 64 KiB (and on a real
server in tests/test_cross_process.py), and a client id reused by another user
(in message_post). Property-based tests (hypothesis) close the file.
"""

import asyncio
import base64
import json
import os
import unicodedata
import urllib.request
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messages_app.frames import (
    ACTIONS,
    ACTIONS_WITH_BODY,
    ACTIONS_WITH_MESSAGE_ID,
    ClientFrame,
    FrameError,
    parse_frame,
)
from messages_app.models import Message, Report
from messages_app.services import MessageRejected, message_post
from tests.factories import MembershipFactory, RoomFactory
from tests.sockets import COMPOSER_CLEARED, joined_socket, live, make_member, receive_all, receive_until

MAX_LENGTH = 4000


async def refused(socket, error):
    """The sender's next error fragment names `error`."""
    reply = (await receive_until(socket, 'id="composer-errors"'))[-1]
    assert error in reply, reply
    return reply


async def frames_within(socket, seconds):
    """Every frame the socket receives until it has been quiet for `seconds`."""
    frames = []
    while not await socket.receive_nothing(timeout=seconds):
        frames.append(await socket.receive_from())
    return frames


async def still_works(socket, tag):
    await socket.send_json_to({"body": f"still here {tag}"})
    await receive_until(socket, f"still here {tag}")


# --- the socket: refusals -----------------------------------------------------------------------


@live
@pytest.mark.parametrize(
    "frame, error",
    [
        ("null", "not a JSON object"),
        ("42", "not a JSON object"),
        ('"just a string"', "not a JSON object"),
        ("true", "not a JSON object"),
        ('{"body": null}', "no text to send"),
        ('{"body": ["a", "list"]}', "no text to send"),
        ('{"body": {"text": "an object"}}', "no text to send"),
        ('{"body": true}', "no text to send"),
        ('{"body": ""}', "Write something"),
        ('{"body": "\\u0000\\u0007\\u001b\\u007f\\u0085"}', "Write something"),  # only control characters
        ('{"body": "\\ud800"}', "Write something"),  # a lone surrogate: JSON can spell it, UTF-8 cannot
        ("[" * 50_000, "not JSON"),  # nested too deep for Python's parser (a RecursionError)
        ('{"action": ["post"], "body": "hi"}', "Unknown action"),
        ('{"action": "read", "message_id": "²"}', "needs a message id"),  # a digit, but not for int()
        ('{"action": "read", "message_id": 9223372036854775808}', "needs a message id"),  # over bigint
        ('{"body": "hi", "client_id": {"not": "a uuid"}}', "bad message id"),
    ],
)
async def test_bad_frame_is_refused_saves_nothing_and_the_socket_still_works(frame, error, caplog):
    room = await sync_to_async(RoomFactory)()
    socket = await joined_socket(room, await make_member(room))
    saved_before = await Message.objects.acount()

    await socket.send_to(text_data=frame)

    await refused(socket, error)
    assert await Message.objects.acount() == saved_before
    assert "socket action failed" not in caplog.text, "a refusal, not an unexpected exception"
    await still_works(socket, uuid.uuid4().hex[:6])
    await socket.disconnect()


@live
async def test_control_characters_are_dropped_and_nul_never_reaches_the_database():
    room = await sync_to_async(RoomFactory)()
    alice = await make_member(room)
    socket = await joined_socket(room, alice)
    body = "a\x00b\x1b[31mc\x07 d\x7f\x85e\r\nf\tg \ud83d"  # NUL, escape, bell, DEL, C1, CRLF, tab, surrogate

    await socket.send_to(text_data=json.dumps({"body": body}))

    frames = await receive_all(socket, "message-", COMPOSER_CLEARED)
    message = await Message.objects.exclude(body__startswith="hello from").aget(room=room)
    assert message.body == "ab[31mc de\nf\tg"
    assert "\x00" not in "".join(frames) and "\x1b" not in "".join(frames)
    await socket.disconnect()


@live
async def test_unknown_keys_and_a_forged_room_or_author_are_ignored():
    """The consumer posts in its own room as its own user, whatever the payload claims."""
    room, other_room = await sync_to_async(RoomFactory)(), await sync_to_async(RoomFactory)()
    alice = await make_member(room)
    await sync_to_async(MembershipFactory)(room=other_room, user=alice)
    bob = await make_member(other_room)
    alice_socket, bob_socket = await joined_socket(room, alice), await joined_socket(other_room, bob)
    forged = {
        "body": "who sent this, and where?",
        "room": other_room.pk,
        "room_id": other_room.pk,
        "slug": other_room.slug,
        "author": bob.pk,
        "author_id": bob.pk,
        "user_id": bob.pk,
        "id": 1,
        "created_at": "2001-01-01T00:00:00Z",
        "HEADERS": {"HX-Request": "true", "HX-Current-URL": f"http://localhost/rooms/{other_room.slug}/"},
        "nested": {"deep": [1, {"x": None}]},
    }

    await alice_socket.send_json_to(forged)

    frame = (await receive_until(alice_socket, "who sent this"))[-1]
    assert f'data-author="{alice.pk}"' in frame
    message = await Message.objects.aget(body="who sent this, and where?")
    assert (message.room_id, message.author_id) == (room.pk, alice.pk)
    # Bob's page of the other room hears nothing of it.
    assert not [frame for frame in await frames_within(bob_socket, 1) if "who sent this" in frame]
    await alice_socket.disconnect()
    await bob_socket.disconnect()


@live
async def test_a_client_id_another_user_used_is_refused_over_the_socket():
    room = await sync_to_async(RoomFactory)()
    alice, mallory = await make_member(room), await make_member(room)
    alice_socket, mallory_socket = await joined_socket(room, alice), await joined_socket(room, mallory)
    client_id = str(uuid.uuid4())
    await alice_socket.send_json_to({"body": "alice's words", "client_id": client_id})
    await receive_until(mallory_socket, "alice's words")

    await mallory_socket.send_json_to({"body": "mallory's words", "client_id": client_id})

    await refused(mallory_socket, "already used")
    assert not await Message.objects.filter(body="mallory's words").aexists()
    message = await Message.objects.aget(client_id=client_id)
    assert (message.author_id, message.body) == (alice.pk, "alice's words")
    await still_works(mallory_socket, "m")
    await alice_socket.disconnect()
    await mallory_socket.disconnect()


@pytest.mark.django_db
def test_the_post_fallback_drops_nul_and_control_characters(client, room, member):
    client.force_login(member)
    response = client.post(f"/rooms/{room.slug}/messages/", {"body": "nul\x00 and\x1b bell\x07\r\nok"})
    assert response.status_code == 303
    assert Message.objects.get(room=room).body == "nul and bell\nok"


@pytest.mark.django_db
def test_length_is_counted_after_cleaning(room, member):
    assert (
        len(message_post(room=room, author=member, body="x" * MAX_LENGTH + "\x00\x00 \n").body) == MAX_LENGTH
    )
    with pytest.raises(MessageRejected, match="at most 4,000"):
        message_post(room=room, author=member, body="\x00" + "y" * (MAX_LENGTH + 1))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/rooms/{slug}/search/", "/search/"])
def test_a_nul_in_a_search_is_dropped_not_a_server_error(client, room, member, path):
    message_post(room=room, author=member, body="a needle in the haystack")
    client.force_login(member)
    response = client.get(path.format(slug=room.slug), {"q": "nee\x00dle"})
    assert response.status_code == 200 and "haystack" in response.content.decode()


@pytest.mark.django_db
def test_a_nul_in_a_report_reason_is_dropped_not_a_server_error(client, room, member):
    message = message_post(room=room, author=MembershipFactory(room=room).user, body="rude words")
    client.force_login(member)
    client.post(f"/rooms/{room.slug}/messages/{message.pk}/report/", {"reason": "spam\x00 \x1bhere"})
    assert Report.objects.get(message=message).reason == "spam here"


# --- a real server: what only the protocol level sees --------------------------------------------


def masked_frame(opcode, payload):
    """One client frame, masked as RFC 6455 requires of clients, written by hand: client
    libraries refuse to send text that is not UTF-8."""
    mask, size = os.urandom(4), len(payload)
    length = bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
    return bytes([0x80 | opcode]) + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def read_frame(reader):
    """(opcode, payload) of one unmasked server frame."""
    first, second = await reader.readexactly(2)
    size = second & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    return first & 0x0F, await reader.readexactly(size)


async def raw_socket(server, room, cookie):
    """A WebSocket opened by hand: (reader, writer) once the server switched protocols."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /ws/rooms/{room.slug}/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {server.origin}\r\nCookie: sessionid={cookie}\r\n\r\n"
        ).encode()
    )
    status = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).split(b"\r\n", 1)[0]
    assert b" 101 " in status, status
    return reader, writer


async def frames_until(reader, wanted, timeout=5):
    """Server frames up to the first whose (opcode, payload) satisfies `wanted`."""

    async def read():
        frames = []
        while True:
            frames.append(await read_frame(reader))
            if wanted(*frames[-1]):
                return frames

    return await asyncio.wait_for(read(), timeout)


@sync_to_async
def member_with_cookie():
    room = RoomFactory()
    user = MembershipFactory(room=room).user
    client = Client()
    client.force_login(user)
    return room, client.cookies["sessionid"].value


def healthz(server):
    with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as response:
        return response.status


TEXT, BINARY, CLOSE = 0x1, 0x2, 0x8


async def send_and_see_echo(reader, writer, body):
    """Send a message as a text frame; return once the socket shows it back."""
    writer.write(masked_frame(TEXT, json.dumps({"body": body}).encode()))
    await frames_until(reader, lambda opcode, payload: body.encode() in payload)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_worker_thread_connections")
async def test_invalid_utf8_fails_the_connection_with_1007_and_the_server_carries_on(asgi_server):
    room, cookie = await member_with_cookie()
    mark = asgi_server.log_mark()
    reader, writer = await raw_socket(asgi_server, room, cookie)

    writer.write(masked_frame(TEXT, b'{"body": "not \xff\xfe UTF-8"}'))
    await writer.drain()

    _, close = (await frames_until(reader, lambda opcode, _: opcode == CLOSE))[-1]
    assert int.from_bytes(close[:2], "big") == 1007
    writer.close()
    assert not await Message.objects.filter(room=room).aexists()

    # The server is healthy and a new socket works.
    assert await asyncio.to_thread(healthz, asgi_server) == 200
    reader, writer = await raw_socket(asgi_server, room, cookie)
    await send_and_see_echo(reader, writer, "after the bad frame")
    writer.close()
    assert await Message.objects.filter(room=room, body="after the bad frame").aexists()
    log = asgi_server.log_text(since=mark)
    assert "WARNING" in log and "Invalid UTF-8" in log  # said once, as the client's fault
    asgi_server.assert_clean_log(since=mark)  # no traceback, no ERROR (config/logfilters.py)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("close_worker_thread_connections")
async def test_a_binary_frame_to_a_real_server_is_refused_and_the_socket_still_works(asgi_server):
    room, cookie = await member_with_cookie()
    mark = asgi_server.log_mark()
    reader, writer = await raw_socket(asgi_server, room, cookie)

    writer.write(masked_frame(BINARY, b'{"body": "sent as bytes"}'))
    await writer.drain()
    await frames_until(reader, lambda opcode, payload: b"Send text, not binary data." in payload)

    await send_and_see_echo(reader, writer, "sent as text")
    writer.close()
    bodies = [body async for body in Message.objects.filter(room=room).values_list("body", flat=True)]
    assert bodies == ["sent as text"]
    asgi_server.assert_clean_log(since=mark)


# --- property-based: the frame parser ------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)
# Frames that look like ours: the keys the parser reads, with values right, nearly right or wrong.
frame_fields = st.fixed_dictionaries(
    {},
    optional={
        "action": st.sampled_from(sorted(ACTIONS)) | st.sampled_from(["POST", "", "nope"]) | json_values,
        "body": st.text() | json_values,
        "message_id": st.integers(min_value=-1, max_value=2**64)
        | st.integers(min_value=0).map(str)
        | st.sampled_from(["²", "٣", "1.5", " 7", "0x10"])
        | json_values,
        "client_id": st.uuids().map(str) | st.sampled_from(["", "not-a-uuid"]) | json_values,
        "HEADERS": json_values,
    },
)


def check_parse(text):
    try:
        frame = parse_frame(text)
    except FrameError as refusal:
        assert str(refusal)  # a reason for the sender
        return
    assert isinstance(frame, ClientFrame) and frame.action in ACTIONS
    assert isinstance(frame.body, str) if frame.action in ACTIONS_WITH_BODY else frame.body is None
    if frame.action in ACTIONS_WITH_MESSAGE_ID:
        assert isinstance(frame.message_id, int) and 0 < frame.message_id < 2**63
    else:
        assert frame.message_id is None
    assert frame.client_id is None or isinstance(frame.client_id, uuid.UUID)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_parses_to_a_frame_or_a_frame_error(text):
    check_parse(text)


@settings(max_examples=200, deadline=None)
@given(json_values | frame_fields)
def test_any_json_parses_to_a_frame_or_a_frame_error(value):
    check_parse(json.dumps(value))


# --- property-based: message_post -----------------------------------------------------------------

any_character = st.characters(exclude_categories=())  # surrogates and control characters included
awkward = st.sampled_from(["\x00", "\r", "\n", "\t", " ", "\x1b", "\x85", "\u2028", "\ud800", "é"])
bodies = st.one_of(
    st.text(any_character, max_size=60),
    st.text(awkward, max_size=20),
    # Around the length limit, with characters that cleaning drops or keeps.
    st.tuples(st.integers(MAX_LENGTH - 5, MAX_LENGTH + 5), st.text(awkward, max_size=8)).map(
        lambda pair: "z" * pair[0] + pair[1]
    ),
)


def cleaned(body):
    """What message_post should save, said independently of its code: CRLF and CR become
    LF; control characters (Cc) but tab and LF, and surrogates (Cs), go; then the ends
    are stripped."""
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(c for c in body if c in "\t\n" or unicodedata.category(c) not in {"Cc", "Cs"})
    return kept.strip()


class RolledBack(Exception):
    pass


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_message_post_saves_the_cleaned_text_exactly_or_refuses(room, member, body):
    expected = cleaned(body)
    try:
        with transaction.atomic():  # each example leaves the database as it found it
            try:
                message = message_post(room=room, author=member, body=body)
            except MessageRejected as refusal:
                assert not expected or len(expected) > MAX_LENGTH, f"refused {expected!r}: {refusal}"
                assert Message.objects.filter(room=room).count() == 0
            else:
                assert expected and len(expected) <= MAX_LENGTH
                assert Message.objects.filter(room=room).count() == 1
                assert Message.objects.get(pk=message.pk).body == expected == message.body
            raise RolledBack
    except RolledBack:
        pass
