"""Real WebSocket clients for tests that talk to real server processes
(tests/live_server.py): the `websockets` library, logged in with a session cookie."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.frames import Opcode
from websockets.uri import parse_uri

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


class DeafToCloseSocket:
    """A WebSocket client that never answers the server's close frame, as a client on a
    stalled network would: the server's side stays half closed (uvicorn waits up to
    10 s for the answer), which makes that window wide enough to test what happens in it.
    Built on the `websockets` sans-I/O protocol, so every other byte is the real thing."""

    def __init__(self, server, room, cookie):
        self.uri = parse_uri(f"{server.ws_url}/ws/rooms/{room.slug}/")
        self.protocol = ClientProtocol(self.uri, origin=server.origin)
        self.cookie = cookie
        self.reader = self.writer = None
        self.events = []

    async def __aenter__(self):
        self.reader, self.writer = await asyncio.open_connection(self.uri.host, self.uri.port)
        request = self.protocol.connect()
        request.headers["Cookie"] = f"sessionid={self.cookie}"
        self.protocol.send_request(request)
        self.flush()
        await self.next_event()  # the handshake's response
        return self

    async def __aexit__(self, *exc_info):
        self.writer.close()

    def flush(self):
        self.writer.write(b"".join(self.protocol.data_to_send()))

    async def send(self, text):
        self.protocol.send_text(text.encode())
        self.flush()

    async def next_event(self):
        while not self.events:
            self.events.extend(self.protocol.events_received())
            if self.events:
                break
            data = await asyncio.wait_for(self.reader.read(65536), RECEIVE_TIMEOUT_SECONDS)
            self.protocol.receive_data(data)
        return self.events.pop(0)

    async def receive_until(self, predicate):
        """Like receive_until() above, for this client's text frames."""
        while True:
            event = await self.next_event()
            if event.opcode is Opcode.TEXT and predicate(event.data.decode()):
                return event.data.decode()

    async def until_server_closes(self):
        """Read up to the server's close frame; its answer stays unsent. Returns the code."""
        while self.protocol.close_rcvd is None:
            await self.next_event()
        self.protocol.data_to_send()  # the automatic answer: dropped
        return self.protocol.close_rcvd.code
