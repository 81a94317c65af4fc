"""Unread counts: one query for all of a user's rooms, marked read by opening a
room or reading it live, and live badges over real WebSockets (per-user group)."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.test import AsyncClient
from django.utils import timezone

from config.realtime import room_group, user_group
from messages_app.selectors import membership_list_for_user
from messages_app.services import membership_mark_read, message_delete, message_post
from rooms.models import Membership
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory
from tests.sockets import live, open_socket, receive_until

# --- selectors and services ----------------------------------------------------------


def unread_of(user):
    """{room slug: (unread messages, unread mentions)}."""
    return {m.room.slug: (m.unread_count, m.unread_mentions) for m in membership_list_for_user(user=user)}


@pytest.mark.django_db
def test_unread_counts_others_messages_after_last_read_not_own_or_deleted(room, member):
    other = MembershipFactory(room=room).user
    first, *_ = MessageFactory.create_batch(3, room=room, author=other)
    MessageFactory(room=room, author=member)
    MessageFactory(room=room, author=other, deleted_at=timezone.now())
    assert unread_of(member) == {room.slug: (3, False)}

    Membership.objects.filter(user=member).update(last_read_message_id=first.pk)
    assert unread_of(member) == {room.slug: (2, False)}


@pytest.mark.django_db
def test_unread_mention_mark_until_read(room, member):
    other = MembershipFactory(room=room).user
    mention = message_post(room=room, author=other, body=f"hey @{member.username}")
    assert unread_of(member) == {room.slug: (1, True)}
    membership_mark_read(room=room, user=member, message_id=mention.pk)
    assert unread_of(member) == {room.slug: (0, False)}


@pytest.mark.django_db
def test_unread_counts_for_all_rooms_in_one_query(user, django_assert_num_queries):
    for _ in range(10):
        room = MembershipFactory(user=user).room
        MessageFactory.create_batch(2, room=room)
    with django_assert_num_queries(1):
        counts = unread_of(user)
    assert len(counts) == 10 and {count for count, _ in counts.values()} == {2}


@pytest.mark.django_db
def test_mark_read_moves_forward_only_and_never_past_the_rooms_messages(room, member):
    older, newer = MessageFactory.create_batch(2, room=room)
    elsewhere = MessageFactory()  # a newer id in another room

    assert membership_mark_read(room=room, user=member, message_id=elsewhere.pk) == newer.pk
    assert membership_mark_read(room=room, user=member, message_id=older.pk) is None
    assert Membership.objects.get(room=room, user=member).last_read_message_id == newer.pk


@pytest.mark.django_db
def test_opening_a_room_marks_it_read_and_the_directory_shows_counts(client, room, member):
    other_room = MembershipFactory(user=member).room
    MessageFactory.create_batch(2, room=room)
    MessageFactory.create_batch(4, room=other_room)
    client.force_login(member)

    client.get(f"/rooms/{room.slug}/")
    directory = client.get("/").content.decode()

    assert f'data-room="{room.slug}" data-unread="0"' in directory
    assert f'data-room="{other_room.slug}" data-unread="4"' in directory


# --- live badges over WebSockets ----------------------------------------------------------


@sync_to_async
def two_rooms_with_alice_and_bob():
    alice, bob = UserFactory(), UserFactory()
    rooms = RoomFactory(), RoomFactory()
    for room in rooms:
        MembershipFactory(room=room, user=alice)
        MembershipFactory(room=room, user=bob)
    return alice, bob, *rooms


def badge(room, unread):
    return f'data-room="{room.slug}" data-unread="{unread}"'


@live
async def test_a_message_in_another_room_bumps_its_badge_and_mentions_mark_it():
    alice, bob, open_room, other_room = await two_rooms_with_alice_and_bob()
    socket = await open_socket(open_room.slug, alice)

    await sync_to_async(message_post)(room=other_room, author=bob, body="first")
    frame = (await receive_until(socket, badge(other_room, 1)))[-1]
    assert f'id="room-link-{other_room.slug}" hx-swap-oob="true"' in frame and "mention-mark" not in frame

    await sync_to_async(message_post)(room=other_room, author=bob, body=f"ping @{alice.username}")
    frame = (await receive_until(socket, badge(other_room, 2)))[-1]
    assert "mention-mark" in frame
    await socket.disconnect()


@live
async def test_a_badge_counts_what_was_unread_before_the_socket_opened_once():
    """The socket reads the unread counts on the first event that needs them (not at its
    handshake): they include the messages before it opened, and that event's message once."""
    alice, bob, open_room, other_room = await two_rooms_with_alice_and_bob()
    await sync_to_async(message_post)(room=other_room, author=bob, body="while alice was away")
    socket = await open_socket(open_room.slug, alice)

    any_badge = f'data-room="{other_room.slug}" data-unread='
    for body, unread in (("now", 2), ("and again", 3)):
        await sync_to_async(message_post)(room=other_room, author=bob, body=body)
        assert badge(other_room, unread) in (await receive_until(socket, any_badge))[-1]
    await socket.disconnect()


@live
async def test_own_messages_elsewhere_do_not_bump_the_badge():
    alice, bob, open_room, other_room = await two_rooms_with_alice_and_bob()
    socket = await open_socket(open_room.slug, alice)

    await sync_to_async(message_post)(room=other_room, author=alice, body="mine")
    await sync_to_async(message_post)(room=other_room, author=bob, body="theirs")

    first_badge = (await receive_until(socket, f'data-room="{other_room.slug}" data-unread='))[-1]
    assert badge(other_room, 1) in first_badge  # bob's message is the first and only bump
    await socket.disconnect()


@live
async def test_reading_a_room_in_one_tab_clears_its_badge_in_every_tab():
    alice, bob, open_room, other_room = await two_rooms_with_alice_and_bob()
    tab_one, tab_two = await open_socket(open_room.slug, alice), await open_socket(open_room.slug, alice)
    message = await sync_to_async(message_post)(room=other_room, author=bob, body="unread")
    for tab in (tab_one, tab_two):
        await receive_until(tab, badge(other_room, 1))

    reader = await open_socket(other_room.slug, alice)
    await reader.send_json_to({"action": "read", "message_id": message.pk})

    for tab in (tab_one, tab_two):
        await receive_until(tab, badge(other_room, 0))
    membership = await Membership.objects.aget(room=other_room, user=alice)
    assert membership.last_read_message_id == message.pk
    for socket in (tab_one, tab_two, reader):
        await socket.disconnect()


@live
async def test_reading_a_room_updates_no_link_on_that_rooms_own_page():
    """A page that joined its room in place (htmx) has no sidebar link for it: an
    update of that link would be an htmx:oobErrorNoTarget in its console."""
    alice, bob, room, other_room = await two_rooms_with_alice_and_bob()
    page, elsewhere = await open_socket(room.slug, alice), await open_socket(other_room.slug, alice)
    message = await sync_to_async(message_post)(room=room, author=bob, body="read me")
    await receive_until(elsewhere, badge(room, 1))

    await page.send_json_to({"action": "read", "message_id": message.pk})

    await receive_until(elsewhere, badge(room, 0))  # the read was sent to the user's sockets
    marker = '<div id="marker" hx-swap-oob="true"></div>'
    await get_channel_layer().group_send(room_group(room), {"type": "chat.html", "html": marker})
    frames = await receive_until(page, marker)
    assert not [frame for frame in frames if f'id="room-link-{room.slug}"' in frame]
    for socket in (page, elsewhere):
        await socket.disconnect()


@live
async def test_opening_the_room_page_clears_the_badge_in_open_tabs():
    alice, bob, open_room, other_room = await two_rooms_with_alice_and_bob()
    tab = await open_socket(open_room.slug, alice)
    await sync_to_async(message_post)(room=other_room, author=bob, body="unread")
    await receive_until(tab, badge(other_room, 1))

    client = AsyncClient()
    await client.aforce_login(alice)
    assert (await client.get(f"/rooms/{other_room.slug}/")).status_code == 200

    await receive_until(tab, badge(other_room, 0))
    await tab.disconnect()


@live
async def test_joining_a_room_in_another_tab_adds_it_to_the_sidebar_with_live_badges():
    alice, bob, open_room, _ = await two_rooms_with_alice_and_bob()
    new_room = await sync_to_async(RoomFactory)(name="Brand New")
    await sync_to_async(MembershipFactory)(room=new_room, user=bob)
    tab = await open_socket(open_room.slug, alice)

    client = AsyncClient()
    await client.aforce_login(alice)
    await client.post(f"/rooms/{new_room.slug}/join/")

    sidebar = (await receive_until(tab, 'id="my-room-links"'))[-1]
    assert "Brand New" in sidebar and badge(new_room, 0) in sidebar
    await sync_to_async(message_post)(room=new_room, author=bob, body="welcome")
    await receive_until(tab, badge(new_room, 1))
    await tab.disconnect()


@live
async def test_an_event_that_arrives_after_the_sidebar_was_read_is_not_counted_twice():
    """A socket that rereads its rooms (one was joined elsewhere) may still hear of a
    message that the read already counted: its badge counts it once."""
    alice, bob, open_room, _ = await two_rooms_with_alice_and_bob()
    tab = await open_socket(open_room.slug, alice)
    new_room = await sync_to_async(RoomFactory)(name="Joined Elsewhere")
    for user in (alice, bob):
        await sync_to_async(MembershipFactory)(room=new_room, user=user)
    first = await sync_to_async(message_post)(room=new_room, author=bob, body="counted by the read")

    layer = get_channel_layer()
    await layer.group_send(user_group(alice.pk), {"type": "rooms.changed"})
    assert badge(new_room, 1) in (await receive_until(tab, 'id="my-room-links"'))[-1]
    late = {"room_id": new_room.pk, "message_id": first.pk, "author_id": bob.pk, "mentions": [], "notice": ""}
    await layer.group_send(user_group(alice.pk), {"type": "room.activity", **late})
    assert badge(new_room, 1) in (await receive_until(tab, f'id="room-link-{new_room.slug}"'))[-1]
    await sync_to_async(message_post)(room=new_room, author=bob, body="the next one")
    assert badge(new_room, 2) in (await receive_until(tab, f'id="room-link-{new_room.slug}"'))[-1]
    await tab.disconnect()


@live
async def test_a_deleted_message_no_longer_counts():
    alice, bob, _, other_room = await two_rooms_with_alice_and_bob()
    message = await sync_to_async(message_post)(room=other_room, author=bob, body="oops")
    await sync_to_async(message_delete)(room=other_room, user=bob, message_id=message.pk)
    counts = await sync_to_async(unread_of)(alice)
    assert counts[other_room.slug] == (0, False)
