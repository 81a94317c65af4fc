"""Presence across two real server processes (the Procfile's uvicorn) sharing Redis:
a socket on server A is seen from a page served by server B, live and on reload."""

import asyncio
import urllib.request

import pytest

from tests.test_cross_process import receive_until, room_socket, room_with_members, session_cookie
from tests.test_presence import is_roster, present_in

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_worker_thread_connections"),
]


def shows_present(user_ids):
    return lambda frame: is_roster(frame) and present_in(frame) == set(user_ids)


def _get_page(server, path, cookie):
    request = urllib.request.Request(f"{server.url}{path}", headers={"Cookie": f"sessionid={cookie}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read().decode()


async def test_socket_on_server_a_is_present_on_a_page_of_server_b(asgi_server, asgi_server_b):
    room, (alice, bob) = await room_with_members(2)
    alice_cookie, bob_cookie = await session_cookie(alice), await session_cookie(bob)
    marks = asgi_server.log_mark(), asgi_server_b.log_mark()

    async with room_socket(asgi_server_b, room, bob_cookie) as bob_on_b:
        await receive_until(bob_on_b, shows_present({bob.pk}))
        async with room_socket(asgi_server, room, alice_cookie):
            await receive_until(bob_on_b, shows_present({alice.pk, bob.pk}))
            page = await asyncio.to_thread(_get_page, asgi_server_b, room.get_absolute_url(), bob_cookie)
            assert present_in(page) == {alice.pk, bob.pk}
        await receive_until(bob_on_b, shows_present({bob.pk}))

    asgi_server.assert_clean_log(since=marks[0])
    asgi_server_b.assert_clean_log(since=marks[1])
