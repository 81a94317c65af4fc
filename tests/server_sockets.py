"""Real WebSocket clients for tests that talk to real server processes
(tests/live_server.py): the `websockets` library, logged in with a session cookie."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from websockets.asyncio.client import connect

RECEIVE_TIMEOUT_SECONDS = 10  # generous: CI machines are sometimes busy


@sync_to_async
def session_cookie(user):
    """A real session for `user`, in the database the servers share."""
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def room_socket(server, room, cookie, *, origin=None):
    """A WebSocket to a room on one server, logged in with a session cookie."""
    return connect(
        f"{server.ws_url}/ws/rooms/{room.slug}/",
        origin=origin or server.origin,
        additional_headers={"Cookie": f"sessionid={cookie}"},
        compression=None,
        open_timeout=10,
        close_timeout=2,
    )


async def receive_until(socket, predicate, *, timeout=RECEIVE_TIMEOUT_SECONDS):
    """Read frames until one satisfies `predicate`; return it (and fail on timeout)."""
    seen = []

    async def read():
        while True:
            frame = await socket.recv()
            seen.append(frame)
            if predicate(frame):
                return frame

    try:
        return await asyncio.wait_for(read(), timeout)
    except TimeoutError:
        pytest.fail(f"no matching frame within {timeout} s; frames seen: {seen!r}")
