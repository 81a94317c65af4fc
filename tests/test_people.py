"""People (issue 13, points 3 and 6): the directory of everyone, searchable by name,
a person's page with the rooms we share (never a private room I am not in, never a
direct conversation), "Message" opening the conversation, query counts that do not
grow with the people shown, and the online state of a person over real sockets."""

import asyncio
import json
import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext

from accounts.services import user_block
from config.asgi import application
from rooms.models import Membership, Room
from rooms.presence.stores import presence_online, presence_store
from rooms.services import direct_conversation_open
from tests.factories import MembershipFactory, RoomFactory, UserFactory
from tests.sockets import ORIGIN, live, open_socket, session_cookie
from tests.test_direct import logged_in


@pytest.fixture
def alice(db):
    return UserFactory(
        username="alice", display_name="Alice Liddell", status_emoji="🌷", status_text="In Wonderland"
    )


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", display_name="Robert")


def cards(page):
    """The usernames of the people cards of a directory page, in order."""
    return re.findall(r'<a class="person-name" href="/people/([^/]+)/"', page)


# --- the directory --------------------------------------------------------------------


def test_directory_lists_everyone_active_with_name_status_and_message_button(alice, bob):
    UserFactory(username="gone", is_active=False)
    page = logged_in(alice).get("/people/").content.decode()
    assert cards(page) == ["alice", "bob"]  # by shown name: "Alice Liddell", "Robert"
    assert "Alice Liddell" in page and "🌷 In Wonderland" in page
    assert 'action="/people/bob/message/"' in page and 'name="csrfmiddlewaretoken"' in page
    assert 'action="/people/alice/message/"' not in page  # not for myself
    assert f'data-presence="{bob.pk}" data-state="no"' in page


def test_directory_needs_login(client):
    assert client.get("/people/").status_code == 302


@pytest.mark.parametrize(
    ("query", "found"),
    [("ali", ["alice"]), ("LIDDELL", ["alice"]), ("rob", ["bob"]), ("BOB", ["bob"]), ("zzz", [])],
)
def test_search_matches_username_and_display_name_whatever_the_case(alice, bob, query, found):
    page = logged_in(alice).get("/people/", {"q": query}).content.decode()
    assert cards(page) == found
    if not found:
        assert "Nobody is called that." in page


def test_live_filter_answers_htmx_with_the_results_alone(alice, bob):
    page = logged_in(alice).get("/people/", {"q": "rob"}, headers={"HX-Request": "true"}).content.decode()
    assert '<div id="people-results"' in page and "<html" not in page and cards(page) == ["bob"]


def test_a_name_two_people_share_shows_their_usernames(alice):
    UserFactory(username="sam1", display_name="Sam")
    UserFactory(username="sam2", display_name="sam")
    page = logged_in(alice).get("/people/").content.decode()
    assert "(@sam1)" in page and "(@sam2)" in page and "(@alice)" not in page


def test_directory_pages_beyond_fifty(alice):
    for n in range(55):
        UserFactory(username=f"p{n:02d}")
    client = logged_in(alice)
    first, second = client.get("/people/").content.decode(), client.get("/people/?page=2").content.decode()
    assert len(cards(first)) == 50 and len(cards(second)) == 6
    assert "Page 1 of 2" in first and 'href="?page=2"' in first


def directory_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/people/").status_code == 200
    return len(queries)


def test_directory_query_count_does_not_grow_with_people(alice, django_assert_max_num_queries):
    client = logged_in(alice)
    for _ in range(2):
        UserFactory()
    few = directory_queries(client)  # 3 people
    for _ in range(27):
        UserFactory(status_text="busy")
    with django_assert_max_num_queries(few):
        assert len(cards(client.get("/people/").content.decode())) == 30


# --- nothing of private rooms ------------------------------------------------------------


@pytest.fixture
def secret_rooms(alice, bob):
    """Bob's private room without alice, and a direct conversation of bob's with carol."""
    vault = RoomFactory(name="Vault of Secrets", slug="vault-of-secrets", is_private=True)
    MembershipFactory(room=vault, user=bob, role=Membership.Role.OWNER)
    carol = UserFactory(username="carol")
    dm = direct_conversation_open(user=bob, others=[carol])
    return vault, dm


def test_private_rooms_never_show_on_the_people_pages(alice, bob, secret_rooms):
    vault, dm = secret_rooms
    client = logged_in(alice)
    for url in ("/people/", "/people/?q=bob", "/people/bob/", "/people/carol/"):
        page = client.get(url).content.decode()
        for secret in (vault.name, vault.slug, dm.slug, dm.name):
            assert secret not in page, (url, secret)


def test_rooms_you_share_are_both_members_rooms_and_no_direct_conversation(alice, bob, secret_rooms):
    lobby, garden, attic = (
        RoomFactory(name="Lobby"),
        RoomFactory(name="Garden"),
        RoomFactory(name="Attic", is_private=True),
    )
    alone = RoomFactory(name="Alice alone")
    banned = RoomFactory(name="Banned Bob")
    for room in (lobby, garden, attic):
        MembershipFactory(room=room, user=alice)
        MembershipFactory(room=room, user=bob)
    MembershipFactory(room=alone, user=alice)
    MembershipFactory(room=banned, user=alice)
    MembershipFactory(room=banned, user=bob, banned_at="2026-01-01T00:00:00Z")
    direct_conversation_open(user=alice, others=[bob])
    page = logged_in(alice).get("/people/bob/").content.decode()
    shared = page.split('id="shared-rooms-title"')[1]
    assert re.findall(r'<span class="room-name">([^<]+)</span>', shared) == ["Attic", "Garden", "Lobby"]
    assert "Private room:" in shared  # the Attic, which alice is in
    assert "Alice alone" not in page and "Banned Bob" not in page
    assert Room.objects.filter(kind=Room.Kind.DIRECT).count() == 2
    assert "dm-" not in shared


# --- a person's page --------------------------------------------------------------------


def test_profile_shows_name_status_local_time_and_buttons(alice, bob):
    alice.time_zone = "Asia/Tokyo"
    alice.save()
    page = logged_in(bob).get("/people/alice/").content.decode()
    assert "Alice Liddell" in page and "@alice" in page and "🌷 In Wonderland" in page
    assert re.search(r"Local time <time datetime=\"[^\"]+\+09:00\">\d\d:\d\d</time> \(Asia/Tokyo\)", page)
    assert 'action="/people/alice/message/"' in page
    assert 'action="/people/alice/block/"' in page and ">Block<" in page
    assert f'data-presence="{alice.pk}" data-state="no"' in page
    user_block(blocker=bob, blocked=alice)
    page = logged_in(bob).get("/people/alice/").content.decode()
    assert 'action="/people/alice/unblock/"' in page and ">Unblock<" in page


def test_my_own_page_has_no_message_or_block_button(alice):
    page = logged_in(alice).get("/people/alice/").content.decode()
    assert "/message/" not in page and "/block/" not in page and 'href="/accounts/profile/"' in page


def test_unknown_or_inactive_person_is_a_404(alice):
    UserFactory(username="gone", is_active=False)
    client = logged_in(alice)
    assert client.get("/people/nobody-here/").status_code == 404
    assert client.get("/people/gone/").status_code == 404


def test_block_from_the_profile_comes_back_to_it(alice, bob):
    response = logged_in(alice).post("/people/bob/block/", {"return_to": "/people/bob/"})
    assert response.status_code == 303 and response["Location"] == "/people/bob/"


def test_message_button_lands_in_the_direct_conversation(alice, bob):
    client = logged_in(alice)
    page = client.get("/people/bob/").content.decode()
    action = re.search(r'<form method="post" action="([^"]+/message/)">', page).group(1)
    response = client.post(action)
    room = Room.objects.get(kind=Room.Kind.DIRECT)
    assert response.status_code == 303 and response["Location"] == f"/rooms/{room.slug}/"
    assert "Direct conversation with</span> Robert</h1>" in client.get(response["Location"]).content.decode()
    assert client.post(action)["Location"] == response["Location"]  # the same one again


def test_member_list_links_names_to_their_pages(alice, bob):
    lobby = RoomFactory(name="Lobby")
    MembershipFactory(room=lobby, user=alice)
    MembershipFactory(room=lobby, user=bob)
    page = logged_in(alice).get(f"/rooms/{lobby.slug}/").content.decode()
    assert 'href="/people/bob/"' in page and 'href="/people/"' in page
    assert f'data-presence="{bob.pk}" data-state="no"' in page


def test_sidebar_direct_messages_carry_the_other_persons_dot(alice, bob):
    lobby = RoomFactory(name="Lobby")
    MembershipFactory(room=lobby, user=alice)
    direct_conversation_open(user=alice, others=[bob])
    page = logged_in(alice).get(f"/rooms/{lobby.slug}/").content.decode()
    direct_part = page.split('id="my-direct-messages"')[1]
    assert f'data-presence="{bob.pk}" data-state="no"' in direct_part


# --- online, over real sockets ----------------------------------------------------------


@pytest.fixture
async def close_presence_pool():
    yield
    await presence_store().aclose()


async def online_answer(client, *users):
    response = await client.get("/presence/people/", {"ids": ",".join(str(user.pk) for user in users)})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    return set(json.loads(response.content)["online"])


async def eventually(check, expected, timeout=5):
    async with asyncio.timeout(timeout):
        while (value := await check()) != expected:
            await asyncio.sleep(0.05)
    return value


@live
@pytest.mark.usefixtures("close_presence_pool")
@pytest.mark.parametrize("path", ["room", "/ws/people/", "/ws/user/", "/ws/home/"])
async def test_online_while_a_socket_is_open_and_offline_once_it_closes(path):
    ann, ben = [await sync_to_async(UserFactory)(username=name) for name in ("ann", "ben")]
    lobby = await sync_to_async(RoomFactory)(name="Lobby")
    await sync_to_async(MembershipFactory)(room=lobby, user=ben)
    client = AsyncClient()
    await client.aforce_login(ann)
    assert await online_answer(client, ann, ben) == set()
    if path == "room":
        socket = await open_socket(lobby.slug, ben)
    else:
        socket = WebsocketCommunicator(application, path, headers=[ORIGIN, await session_cookie(ben)])
        assert (await socket.connect(timeout=10))[0]
    await eventually(lambda: online_answer(client, ann, ben), {ben.pk})
    page = (await client.get("/people/")).content.decode()
    assert f'data-presence="{ben.pk}" data-state="yes"' in page and "online: " in page
    assert f'data-presence="{ann.pk}" data-state="no"' in page
    await socket.disconnect()
    await eventually(lambda: online_answer(client, ann, ben), set())


@live
@pytest.mark.usefixtures("close_presence_pool")
async def test_two_sockets_keep_a_person_online_until_both_close(settings):
    settings.CHAT_MAX_SOCKETS_PER_USER = 0  # no cap: sockets are still counted for presence
    ben = await sync_to_async(UserFactory)(username="ben")
    first, second = [
        WebsocketCommunicator(application, "/ws/people/", headers=[ORIGIN, await session_cookie(ben)])
        for _ in range(2)
    ]
    for socket in (first, second):
        assert (await socket.connect(timeout=10))[0]
    online = sync_to_async(presence_online)
    assert await online(user_ids=[ben.pk]) == {ben.pk}
    await first.disconnect()
    assert await online(user_ids=[ben.pk]) == {ben.pk}
    await second.disconnect()
    assert await online(user_ids=[ben.pk]) == set()


def test_presence_endpoint_ignores_junk_and_needs_login(alice, client):
    assert client.get("/presence/people/?ids=1").status_code == 302
    response = logged_in(alice).get("/presence/people/", {"ids": "x,,-3,12345678," + ",".join(["1"] * 500)})
    assert response.status_code == 200 and json.loads(response.content) == {"online": []}
