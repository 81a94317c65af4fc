"""Presence (who has a room open now) and "… is typing", over real WebSockets
through the project's ASGI stack on the real Redis, plus the two stores alone."""

import asyncio
import re

import pytest
import redis
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext

from config.realtime import room_group
from rooms.presence.roster import ROSTER_NAMES_SHOWN
from rooms.presence.stores import MemoryPresence, RedisPresence, presence_enter, presence_get, presence_store
from tests.factories import MembershipFactory, RoomFactory
from tests.sockets import make_member, open_socket, receive_until

pytestmark = pytest.mark.django_db(transaction=True)
over_sockets = pytest.mark.usefixtures(
    "channel_layer", "close_worker_thread_connections", "close_presence_pool"
)

ROSTER = re.compile(r'<section id="presence" .*?data-version="(\d+)".*?</section>', re.DOTALL)
NAMED = re.compile(r'<li data-user="(\d+)">.*?</span> (\S+)</li>')


@pytest.fixture
async def close_presence_pool():
    """Each test runs in an event loop of its own: close that loop's Redis pool."""
    yield
    await presence_store().aclose()


@pytest.fixture
async def room():
    return await sync_to_async(RoomFactory)()


def present_in(html):
    """The user ids the "Here now" roster of a frame or page lists (each with their name)."""
    return {int(user_id) for user_id, _ in NAMED.findall(ROSTER.search(html).group(0))}


def names_in(html):
    return {name for _, name in NAMED.findall(ROSTER.search(html).group(0))}


def version_of(html):
    return int(ROSTER.search(html).group(1))


def is_roster(frame):
    return ROSTER.search(frame) is not None


async def roster_where(socket, wanted, *, timeout=3):
    """Read frames until a roster names exactly the `wanted` user ids as present;
    return the rosters seen on the way (the last one is the match)."""
    seen = []
    async with asyncio.timeout(timeout):
        while True:
            frame = await socket.receive_from(timeout=timeout)
            if is_roster(frame):
                seen.append(frame)
                if present_in(frame) == set(wanted):
                    return seen


@over_sockets
async def test_a_member_sees_another_arrive_and_leave(room):
    alice, bob = await make_member(room), await make_member(room)
    bob_socket = await open_socket(room.slug, bob)
    (bob_alone,) = await roster_where(bob_socket, {bob.pk})

    alice_socket = await open_socket(room.slug, alice)
    arrived = (await roster_where(bob_socket, {alice.pk, bob.pk}))[-1]
    await roster_where(alice_socket, {alice.pk, bob.pk})
    await alice_socket.disconnect()
    left = (await roster_where(bob_socket, {bob.pk}))[-1]

    assert 'hx-swap-oob="true"' in arrived
    assert names_in(arrived) == {alice.username, bob.username}
    assert "member-roll" not in arrived  # the roster alone, not the whole member list
    versions = [version_of(frame) for frame in (bob_alone, arrived, left)]
    assert versions == sorted(versions) and len(set(versions)) == 3
    await bob_socket.disconnect()


@over_sockets
async def test_closing_one_of_two_tabs_keeps_the_user_present(room):
    alice, bob = await make_member(room), await make_member(room)
    bob_socket = await open_socket(room.slug, bob)
    first_tab = await open_socket(room.slug, alice)
    second_tab = await open_socket(room.slug, alice)
    await roster_where(second_tab, {alice.pk, bob.pk})

    await first_tab.disconnect()

    assert (await sync_to_async(presence_get)(room_id=room.pk)).user_ids == {alice.pk, bob.pk}
    client = AsyncClient()
    await client.aforce_login(bob)
    page = (await client.get(f"/rooms/{room.slug}/")).content.decode()
    assert present_in(page) == {alice.pk, bob.pk}

    await second_tab.disconnect()
    lists = await roster_where(bob_socket, {bob.pk})
    assert all(alice.pk in present_in(frame) for frame in lists[:-1]), "alice was shown gone too early"
    await bob_socket.disconnect()


@over_sockets
async def test_an_older_roster_is_never_shown_after_a_newer_one(room):
    """Rosters of several server processes may arrive out of order: the socket drops
    one older than the last it sent, whatever the order it receives them in."""
    bob = await make_member(room)
    bob_socket = await open_socket(room.slug, bob)
    (shown,) = await roster_where(bob_socket, {bob.pk})

    def roster(version, text):
        html = f'<section id="presence" data-version="{version}" hx-swap-oob="true">{text}</section>'
        return {"type": "room.presence", "version": version, "html": html}

    send = get_channel_layer().group_send
    await send(room_group(room), roster(version_of(shown) - 1, "older"))
    await send(room_group(room), roster(version_of(shown), "the same again"))
    await send(room_group(room), roster(version_of(shown) + 1, "newer"))
    await send(room_group(room), roster(version_of(shown), "older again"))
    assert (await bob_socket.receive_from()).endswith(">newer</section>")
    assert await bob_socket.receive_nothing(timeout=0.3)
    await bob_socket.disconnect()


async def typing_lines_within(socket, seconds=0.5):
    """The frames about typing lines that the socket receives in the next `seconds`."""
    frames = []
    while not await socket.receive_nothing(timeout=seconds):
        frame = await socket.receive_from()
        if 'id="typing-' in frame:
            frames.append(frame)
    return frames


@over_sockets
async def test_typing_shows_others_one_line_per_person_until_their_message(room, settings):
    settings.CHAT_TYPING_THROTTLE = 0
    alice, bob = await make_member(room), await make_member(room)
    alice_socket, bob_socket = await open_socket(room.slug, alice), await open_socket(room.slug, bob)
    await roster_where(alice_socket, {alice.pk, bob.pk})
    await roster_where(bob_socket, {alice.pk, bob.pk})
    line = f'<p id="typing-{alice.pk}" class="typing-line" data-user="{alice.pk}"'

    # The first line of alice on bob's page is added to #typing...
    await alice_socket.send_json_to({"action": "typing", "HEADERS": {"HX-Request": "true"}})
    added = (await receive_until(bob_socket, "is typing"))[-1]
    assert added.strip().startswith('<div hx-swap-oob="beforeend:#typing">' + line + ">")
    assert f">{alice.username} is typing…</p>" in added
    # ...the next replaces it (one line per person, and its fade starts again).
    await alice_socket.send_json_to({"action": "typing"})
    replaced = (await receive_until(bob_socket, "is typing"))[-1]
    assert replaced.strip().startswith(line + ' hx-swap-oob="true">')
    # Her message takes the line away, once.
    await alice_socket.send_json_to({"body": "done typing"})
    frames = await receive_until(bob_socket, f'id="typing-{alice.pk}"')
    assert "done typing" in frames[-2]
    assert frames[-1].strip().startswith(line + ' hidden hx-swap-oob="true"></p>')
    await alice_socket.send_json_to({"body": "and again"})
    await receive_until(bob_socket, "and again")
    # Alice never sees her own line, nor the removal of one.
    assert await typing_lines_within(bob_socket) == []
    assert await typing_lines_within(alice_socket) == []
    await alice_socket.disconnect()
    await bob_socket.disconnect()


@over_sockets
async def test_a_new_socket_empties_the_typing_lines_of_its_page(room, settings):
    """After a reconnect a page may show lines that the new socket does not know of:
    it starts with an empty #typing, so that it adds (not replaces) each line."""
    alice = await make_member(room)
    alice_socket = await open_socket(room.slug, alice)
    frame = await alice_socket.receive_from()
    assert frame.strip() == '<div id="typing" class="typing" aria-live="polite" hx-swap-oob="true"></div>'
    await alice_socket.disconnect()


@over_sockets
async def test_typing_is_relayed_at_most_once_per_throttle_interval(room, settings):
    settings.CHAT_TYPING_THROTTLE = 0.5
    alice, bob = await make_member(room), await make_member(room)
    alice_socket, bob_socket = await open_socket(room.slug, alice), await open_socket(room.slug, bob)
    await roster_where(bob_socket, {alice.pk, bob.pk})

    for _ in range(5):
        await alice_socket.send_json_to({"action": "typing"})
    await alice_socket.send_json_to({"body": "sent after five typing frames"})
    frames = await receive_until(bob_socket, "sent after five typing frames")
    assert sum("is typing" in frame for frame in frames) == 1

    await asyncio.sleep(0.5)
    await alice_socket.send_json_to({"action": "typing"})
    await receive_until(bob_socket, "is typing")
    await alice_socket.disconnect()
    await bob_socket.disconnect()


@over_sockets
async def test_entry_of_a_killed_process_expires_and_the_room_is_told(room, settings):
    settings.CHAT_PRESENCE_TTL = 0.6  # sockets refresh every 0.2 s
    bob, carol = await make_member(room), await make_member(room)
    # A socket on a process that died: its entry is never removed.
    await presence_enter(room_id=room.pk, user_id=carol.pk, channel_name="specific.dead-process!1")

    bob_socket = await open_socket(room.slug, bob)
    await roster_where(bob_socket, {bob.pk, carol.pk})
    await roster_where(bob_socket, {bob.pk}, timeout=2)

    assert (await sync_to_async(presence_get)(room_id=room.pk)).user_ids == {bob.pk}
    await asyncio.sleep(0.7)  # longer than the entry lives: bob's refreshes keep him here
    assert (await sync_to_async(presence_get)(room_id=room.pk)).user_ids == {bob.pk}
    await bob_socket.disconnect()


@over_sockets
async def test_presence_of_a_private_room_reaches_only_its_members(room):
    private_room = await sync_to_async(RoomFactory)(is_private=True)
    alice = await make_member(private_room)
    outsider = await make_member(room)
    outsider_socket = await open_socket(room.slug, outsider)
    await roster_where(outsider_socket, {outsider.pk})

    alice_socket = await open_socket(private_room.slug, alice)
    await roster_where(alice_socket, {alice.pk})
    bob = await make_member(private_room)
    bob_socket = await open_socket(private_room.slug, bob)
    await roster_where(alice_socket, {alice.pk, bob.pk})
    await alice_socket.send_json_to({"action": "typing"})
    await receive_until(bob_socket, "is typing")

    assert await outsider_socket.receive_nothing(timeout=0.3)
    await bob_socket.disconnect()
    await alice_socket.disconnect()
    await outsider_socket.disconnect()


# --- the room page ----------------------------------------------------------------


async def enter_and_close(room, users):
    for user in users:
        await presence_enter(room_id=room.pk, user_id=user.pk, channel_name=f"specific.test!{user.pk}")
    await presence_store().aclose()


def room_with_others_here(*, members):
    """A room of `members` members, all but the first (the viewer) here now."""
    room = RoomFactory()
    viewer, *others = [MembershipFactory(room=room).user for _ in range(members)]
    async_to_sync(enter_and_close)(room, others)
    return room, viewer, others


def room_page_query_count(client, room, viewer):
    client.force_login(viewer)
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/rooms/{room.slug}/")
    return len(queries)


def test_room_page_marks_who_is_here_in_a_constant_number_of_queries(client, django_assert_max_num_queries):
    small_room, small_viewer, _ = room_with_others_here(members=2)
    room, viewer, others = room_with_others_here(members=30)
    assert room_page_query_count(client, small_room, small_viewer) == room_page_query_count(
        client, room, viewer
    )

    # Presence itself is one Redis read, no query; the 8th is the notification level.
    with django_assert_max_num_queries(8):
        page = client.get(f"/rooms/{room.slug}/").content.decode()

    # The viewer's page is open, but it has no socket yet. The roster names the first few.
    named = sorted(others, key=lambda user: user.username.lower())[:ROSTER_NAMES_SHOWN]
    assert len(others) > ROSTER_NAMES_SHOWN
    assert present_in(page) == {user.pk for user in named}
    assert names_in(page) == {user.username for user in named}
    assert f"and {len(others) - ROSTER_NAMES_SHOWN} more" in page


def test_room_page_still_shows_without_redis_answering(client, monkeypatch, caplog):
    room, viewer, _ = room_with_others_here(members=2)
    unreachable = RedisPresence(url="redis://127.0.0.1:9/0", prefix="nowhere")  # port 9: discard, closed
    monkeypatch.setattr("rooms.presence.stores.presence_store", lambda: unreachable)
    client.force_login(viewer)

    response = client.get(f"/rooms/{room.slug}/")

    assert response.status_code == 200
    assert present_in(response.content.decode()) == set()
    assert "presence unavailable" in caplog.text


# --- the stores alone -----------------------------------------------------------------


ROOM_ID = 10**9  # no real room's: these tests use the stores alone


@pytest.fixture(params=["redis", "memory"])
async def store(request):
    if request.param == "memory":
        yield MemoryPresence()
        return
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    # Every test uses ROOM_ID: start from none of its keys, whatever the layer's flush() empties.
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        stale = list(client.scan_iter(match=f"{prefix}:presence:{ROOM_ID}*"))
        if stale:
            client.delete(*stale)
    redis_store = RedisPresence(url=settings.REDIS_URL, prefix=prefix)
    yield redis_store
    await redis_store.aclose()


async def update(store, user_id, channel, *, entering=True, ttl=30, room_id=ROOM_ID):
    return await store.update(
        room_id=room_id, user_id=user_id, channel_name=channel, entering=entering, ttl=ttl
    )


def present(store, room_id=ROOM_ID):
    return store.get(room_id=room_id).user_ids


@over_sockets
async def test_store_counts_a_user_once_whatever_their_number_of_sockets(store):
    assert await update(store, 7, "tab-1") is True
    assert await update(store, 7, "tab-2") is False
    assert await update(store, 8, "tab-3") is True
    assert present(store) == {7, 8}

    assert await update(store, 7, "tab-1", entering=False) is False
    assert present(store) == {7, 8}
    assert await update(store, 7, "tab-2", entering=False) is True
    assert present(store) == {8}
    assert await update(store, 7, "tab-2", entering=False) is False  # a repeated leave changes nothing
    assert present(store, room_id=ROOM_ID + 1) == frozenset()


@over_sockets
async def test_store_versions_grow_with_each_change_only(store):
    await update(store, 7, "tab-1")
    first = store.get(room_id=ROOM_ID).version
    await update(store, 7, "tab-1")  # a refresh
    assert store.get(room_id=ROOM_ID).version == first
    await update(store, 8, "tab-2")
    assert store.get(room_id=ROOM_ID).version > first


@over_sockets
async def test_store_readers_ignore_expired_entries_and_the_next_update_reports_them_gone(store):
    await update(store, 7, "dead-process", ttl=0.3)
    await update(store, 8, "alive", ttl=30)
    assert present(store) == {7, 8}

    await asyncio.sleep(0.35)

    assert present(store) == {8}  # no update needed for readers to stop counting 7
    version = store.get(room_id=ROOM_ID).version
    assert await update(store, 8, "alive", ttl=30) is True  # the refresh that prunes 7
    assert store.get(room_id=ROOM_ID).version > version
    assert await update(store, 8, "alive", ttl=30) is False


@over_sockets
async def test_store_entry_refreshed_in_time_stays(store):
    await update(store, 7, "tab", ttl=0.3)
    await asyncio.sleep(0.2)
    await update(store, 7, "tab", ttl=0.3)
    await asyncio.sleep(0.2)
    assert present(store) == {7}


@over_sockets
async def test_store_refreshes_many_entries_in_one_call_and_reports_each_change(store):
    await update(store, 7, "tab-a", ttl=0.3)
    entries = [(ROOM_ID, 7, "tab-a"), (ROOM_ID, 8, "tab-b")]

    assert await store.refresh_many(entries, ttl=0.3) == [False, True]  # 7 was here, 8 is new
    await asyncio.sleep(0.2)
    assert await store.refresh_many(entries, ttl=0.3) == [False, False]
    await asyncio.sleep(0.2)  # past the first expiry: the refresh kept both
    assert present(store) == {7, 8}


@over_sockets
async def test_one_process_keeps_all_its_sockets_present_and_lets_closed_ones_go(room, settings):
    settings.CHAT_PRESENCE_TTL = 0.6  # refreshed every 0.2 s, in batches
    members = [await make_member(room) for _ in range(20)]
    sockets = [await open_socket(room.slug, member) for member in members]
    everyone = {member.pk for member in members}
    await roster_where(sockets[0], everyone)

    await asyncio.sleep(1.5)  # more than twice as long as an entry lives
    assert (await sync_to_async(presence_get)(room_id=room.pk)).user_ids == everyone

    for socket in sockets[10:]:
        await socket.disconnect()
    await asyncio.sleep(1.0)  # refreshes went on for the open ten, and none for the closed
    assert (await sync_to_async(presence_get)(room_id=room.pk)).user_ids == everyone - {
        member.pk for member in members[10:]
    }
    for socket in sockets[:10]:
        await socket.disconnect()
