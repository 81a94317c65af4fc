"""Bots on the live path (issue 17, point 4): a personal access token opens the same
room socket as a browser (`Authorization: Bearer <token>`, no Origin needed, since a
browser never sends a token by itself), a read token only listens, and the example bot
of docs/ answers in a room served by a real server process."""

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from api.models import ApiToken
from api.services import token_create, token_revoke
from config.asgi import application
from messages_app.models import Message
from messages_app.services import message_post
from tests.factories import MembershipFactory, RoomFactory, UserFactory
from tests.server_sockets import receive_until, room_socket, session_cookie
from tests.sockets import COMPOSER_CLEARED, joined_socket, live, receive_all

EXAMPLE_BOT = Path(__file__).resolve().parent.parent / "docs" / "example_bot.py"


@pytest.fixture
async def room():
    return await sync_to_async(RoomFactory)()


@sync_to_async
def member_token(room, *, scope=ApiToken.Scope.WRITE, username="buildbot", **membership):
    """A bot member of the room and the secret of a token of its."""
    bot = MembershipFactory(room=room, user=UserFactory(username=username), **membership).user
    _, secret = token_create(user=bot, name="ci", scope=scope)
    return bot, secret


async def token_socket(slug, secret, *extra_headers):
    headers = [(b"authorization", f"Bearer {secret}".encode()), *extra_headers]
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{slug}/", headers=headers)
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    return communicator


async def closed_with(socket):
    while True:
        output = await socket.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            return output["code"]


@live
async def test_a_write_token_listens_and_posts_without_an_origin(room):
    bot, secret = await member_token(room)
    person = (await sync_to_async(MembershipFactory)(room=room)).user
    socket = await token_socket(room.slug, secret)  # no Origin header at all
    await socket.send_json_to({"body": "deploy started"})
    await receive_all(socket, "deploy started", COMPOSER_CLEARED)
    saved = await Message.objects.select_related("author").aget(body="deploy started")
    assert saved.author == bot and saved.room_id == room.pk

    await sync_to_async(message_post)(room=room, author=person, body="thanks, bot")
    await receive_until_text(socket, "thanks, bot")
    await socket.disconnect()


async def receive_until_text(socket, text):
    while text not in await socket.receive_from(timeout=3):
        pass


@live
async def test_a_read_token_listens_but_its_frames_are_refused_and_nothing_saved(room):
    _, secret = await member_token(room, scope=ApiToken.Scope.READ)
    person = (await sync_to_async(MembershipFactory)(room=room)).user
    socket = await token_socket(room.slug, secret)
    for frame in ({"body": "sneaky"}, {"react": 1, "emoji": "👍"}, {"action": "typing"}):
        await socket.send_json_to(frame)
        await receive_until_text(socket, "scope is read")
    assert not await Message.objects.filter(body="sneaky").aexists()
    await sync_to_async(message_post)(room=room, author=person, body="you can read this")
    await receive_until_text(socket, "you can read this")
    await socket.disconnect()


@live
@pytest.mark.parametrize(
    "header", ["Bearer chat_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "Token x"]
)
async def test_an_unknown_token_or_another_scheme_is_signed_out(room, header):
    communicator = WebsocketCommunicator(
        application, f"/ws/rooms/{room.slug}/", headers=[(b"authorization", header.encode())]
    )
    connected, _ = await communicator.connect(timeout=10)
    assert connected and await closed_with(communicator) == 4401


@live
async def test_a_revoked_token_no_longer_opens_a_socket(room):
    bot, secret = await member_token(room)
    token = await ApiToken.objects.aget(user=bot)
    assert await sync_to_async(token_revoke)(user=bot, token_id=token.pk)
    socket = await token_socket(room.slug, secret)
    assert await closed_with(socket) == 4401


@live
async def test_a_token_gets_only_what_its_user_may_read():
    private = await sync_to_async(RoomFactory)(is_private=True)
    elsewhere = await sync_to_async(RoomFactory)()
    _, secret = await member_token(elsewhere)
    assert await closed_with(await token_socket(private.slug, secret)) == 4404  # invisible
    public = await sync_to_async(RoomFactory)()
    assert await closed_with(await token_socket(public.slug, secret)) == 4403  # not a member
    banned_from = await sync_to_async(RoomFactory)()
    _, banned_secret = await member_token(banned_from, username="banned-bot", banned_at=timezone.now())
    assert await closed_with(await token_socket(banned_from.slug, banned_secret)) == 4403


@live
async def test_browsers_still_need_an_allowed_origin(room):
    person = (await sync_to_async(MembershipFactory)(room=room)).user
    from tests.sockets import session_cookie as cookie_header

    communicator = WebsocketCommunicator(
        application, f"/ws/rooms/{room.slug}/", headers=[await cookie_header(person)]
    )
    connected, _ = await communicator.connect(timeout=10)
    assert not connected  # no Origin, no token: refused as before
    socket = await joined_socket(room, person)  # with the Origin: as before
    await socket.disconnect()


@live
async def test_the_example_bot_answers_ping_with_pong_in_a_real_server(room, asgi_server):
    _, secret = await member_token(room)
    person = (await sync_to_async(MembershipFactory)(room=room)).user
    bot = subprocess.Popen(
        [sys.executable, str(EXAMPLE_BOT), asgi_server.url, room.slug, secret],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        async with room_socket(asgi_server, room, await session_cookie(person)) as socket:
            for _ in range(50):  # until the bot's socket has joined the room and answered
                await socket.send('{"body": "!ping"}')
                await asyncio.sleep(0.2)
                if await Message.objects.filter(body="pong").aexists():
                    break
            await receive_until(socket, lambda frame: ">pong<" in frame)
        pong = await Message.objects.select_related("author", "reply_to").filter(body="pong").afirst()
        assert pong.reply_to.body == "!ping"
        assert pong.author.username == "buildbot"
        assert (
            await Message.objects.filter(body="pong").acount()
            <= await Message.objects.filter(body="!ping").acount()
        )
    finally:
        bot.terminate()
        output = bot.communicate(timeout=10)[0].decode()
    assert "Traceback" not in output, output
