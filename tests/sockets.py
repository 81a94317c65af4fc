"""Helpers for tests that talk to the room socket through the project's real
ASGI stack (origin check, session auth, routing) with WebsocketCommunicator."""

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import AsyncClient

from config.asgi import application
from tests.factories import MembershipFactory

ORIGIN = (b"origin", b"http://localhost")


async def session_cookie(user):
    client = AsyncClient()
    await client.aforce_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def open_socket(slug, user=None, origin=ORIGIN):
    headers = [origin]
    if user is not None:
        headers.append(await session_cookie(user))
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{slug}/", headers=headers)
    connected, _ = await communicator.connect(timeout=10)  # a loaded CI machine is slow
    assert connected
    return communicator


COMPOSER_CLEARED = '<div id="composer-errors" class="composer-errors" role="alert" hx-swap-oob="true"></div>'


async def joined_socket(room, user):
    """A member's socket, proven to be in the room's group (it saw its own echo),
    with the sender's own replies read, so that the next frame is a fresh one."""
    socket = await open_socket(room.slug, user)
    await socket.send_json_to({"body": f"hello from {user.username}"})
    await receive_all(socket, f"hello from {user.username}", COMPOSER_CLEARED)
    return socket


async def receive_until(socket, text, timeout=3):
    """Frames up to and including the first that contains `text`."""
    frames = []
    while True:
        frame = await socket.receive_from(timeout=timeout)
        frames.append(frame)
        if text in frame:
            return frames


async def receive_all(socket, *texts, timeout=3):
    """Frames until each of `texts` has been seen (in any order)."""
    frames, missing = [], list(texts)
    while missing:
        frame = await socket.receive_from(timeout=timeout)
        frames.append(frame)
        missing = [text for text in missing if text not in frame]
    return frames


async def make_member(room, **kwargs):
    return (await sync_to_async(MembershipFactory)(room=room, **kwargs)).user


def live(test):
    """Mark a test that uses real sockets: committed rows (consumers query from
    another thread), a clean channel layer, and worker-thread connections closed."""
    test = pytest.mark.django_db(transaction=True)(test)
    return pytest.mark.usefixtures("channel_layer", "close_worker_thread_connections")(test)
