"""The home page and the user's rooms kept live (issue 12, points 3, 9 and 11):
invitations by username wait for an answer, rooms renamed by their owner, the home
page's lists and their query counts, the join and leave answers that carry the
sidebar, and the user's socket of pages that have no room socket."""

import asyncio
import re
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import AsyncClient, Client, override_settings
from django.utils import timezone

from config.asgi import application
from config.realtime import user_group
from messages_app.models import ModerationAction
from messages_app.moderation import member_ban
from messages_app.selectors import membership_list_for_user, room_list_discover
from messages_app.services import message_post
from rooms.models import Membership
from rooms.services import (
    RoomError,
    RoomPermissionDenied,
    room_invitation_accept,
    room_invitation_decline,
    room_invite,
    room_join,
    room_members_notify_changed,
    room_rename,
)
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory
from tests.sockets import ORIGIN, live, make_member, open_socket, receive_until, session_cookie

OWNER, MODERATOR, MEMBER = Membership.Role.OWNER, Membership.Role.MODERATOR, Membership.Role.MEMBER
HTMX = {"HX-Request": "true"}


@pytest.fixture
def secret(db):
    return RoomFactory(name="Hidden Garden", topic="Roses only", is_private=True)


@pytest.fixture
def owner(secret):
    return MembershipFactory(room=secret, role=OWNER).user


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


def membership(room, user):
    return Membership.objects.filter(room=room, user=user).first()


# --- invitations that wait for an answer -------------------------------------------------


def test_an_invitation_by_username_is_pending_and_names_who_invited(secret, owner, bob):
    room_invite(room=secret, invited_by=owner, username="bob")
    invited = membership(secret, bob)
    assert invited.invitation_pending and invited.invited_by == owner


def test_joining_by_the_button_or_creating_leaves_nothing_pending(bob):
    room = RoomFactory()
    assert not room_join(room=room, user=bob).invitation_pending


def test_accepting_keeps_the_room_and_ends_the_notice(secret, owner, bob, django_capture_on_commit_callbacks):
    room_invite(room=secret, invited_by=owner, username="bob")
    with django_capture_on_commit_callbacks() as callbacks:
        room_invitation_accept(room=secret, user=bob)
    assert not membership(secret, bob).invitation_pending
    assert len(callbacks) == 1  # the user's pages hear of it
    with django_capture_on_commit_callbacks() as callbacks:
        room_invitation_accept(room=secret, user=bob)  # twice: nothing more
    assert callbacks == []


def test_declining_leaves_the_room(secret, owner, bob):
    room_invite(room=secret, invited_by=owner, username="bob")
    room_invitation_decline(room=secret, user=bob)
    assert membership(secret, bob) is None


def test_declining_never_ends_an_accepted_membership_or_a_ban(secret, owner, bob):
    room_invite(room=secret, invited_by=owner, username="bob")
    room_invitation_accept(room=secret, user=bob)
    room_invitation_decline(room=secret, user=bob)
    assert membership(secret, bob) is not None
    banned = MembershipFactory(room=secret, banned_at=timezone.now(), invitation_pending=True)
    room_invitation_decline(room=secret, user=banned.user)
    assert membership(secret, banned.user).is_banned


# --- renaming --------------------------------------------------------------------------


def test_the_owner_renames_a_room_and_its_address_stays(secret, owner, django_capture_on_commit_callbacks):
    slug = secret.slug
    with django_capture_on_commit_callbacks() as callbacks:
        room_rename(room=secret, actor=owner, name="  Rose Garden ")
    secret.refresh_from_db()
    assert (secret.name, secret.slug) == ("Rose Garden", slug)
    assert callbacks  # the members' pages hear of it once it commits


@pytest.mark.parametrize("role", [MODERATOR, MEMBER, None])
def test_only_owners_rename(secret, role):
    actor = MembershipFactory(room=secret, role=role).user if role else UserFactory()
    with pytest.raises(RoomPermissionDenied):
        room_rename(room=secret, actor=actor, name="Mine now")
    secret.refresh_from_db()
    assert secret.name == "Hidden Garden"


def test_a_banned_owner_cannot_rename(secret):
    banned = MembershipFactory(room=secret, role=OWNER, banned_at=timezone.now()).user
    with pytest.raises(RoomPermissionDenied):
        room_rename(room=secret, actor=banned, name="Mine now")


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_a_room_name_is_not_blank_nor_too_long(secret, owner, name):
    with pytest.raises(RoomError):
        room_rename(room=secret, actor=owner, name=name)
    secret.refresh_from_db()
    assert secret.name == "Hidden Garden"


def test_the_same_name_again_tells_nobody(secret, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        room_rename(room=secret, actor=owner, name="Hidden Garden")
    assert callbacks == []


@live
async def test_notify_changed_reaches_every_member_but_the_banned(channel_layer):
    room = await sync_to_async(RoomFactory)()
    members = [await make_member(room) for _ in range(3)]
    banned = await make_member(room, banned_at=timezone.now())
    outsider = await sync_to_async(UserFactory)()
    inboxes = {}
    for user in (*members, banned, outsider):
        inboxes[user.pk] = await channel_layer.new_channel()
        await channel_layer.group_add(user_group(user.pk), inboxes[user.pk])

    await sync_to_async(room_members_notify_changed)(room)  # no transaction: at once

    for user in members:
        event = await asyncio.wait_for(channel_layer.receive(inboxes[user.pk]), timeout=3)
        assert event == {"type": "rooms.changed"}
    for user in (banned, outsider):
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(channel_layer.receive(inboxes[user.pk]), timeout=0.3)


# --- selectors --------------------------------------------------------------------------


def test_my_rooms_carry_their_last_activity_and_inviter_in_one_query(
    secret, owner, bob, django_assert_num_queries
):
    quiet = MembershipFactory(user=bob).room
    MessageFactory(room=secret, author=owner, created_at=timezone.now() - timedelta(hours=3))
    newest = MessageFactory(room=secret, author=owner, created_at=timezone.now() - timedelta(hours=1))
    room_invite(room=secret, invited_by=owner, username="bob")

    with django_assert_num_queries(1):
        rows = {
            m.room.slug: (m.last_activity, m.invited_by and m.invited_by.username)
            for m in membership_list_for_user(user=bob)
        }

    assert rows == {secret.slug: (newest.created_at, owner.username), quiet.slug: (None, None)}


def test_rooms_to_discover_are_public_rooms_i_am_not_in(bob):
    busy = RoomFactory(name="Busy")
    RoomFactory(name="Quiet", topic="shh")
    MembershipFactory.create_batch(2, room=busy)
    MembershipFactory(room=busy, banned_at=timezone.now())  # a ban is not a member
    MembershipFactory(room=RoomFactory(name="Joined"), user=bob)
    MembershipFactory(room=RoomFactory(name="Banned from"), user=bob, banned_at=timezone.now())
    RoomFactory(name="Private", is_private=True)

    shown = [(room.name, room.member_count) for room in room_list_discover(user=bob)]

    assert shown == [("Busy", 2), ("Quiet", 0)]


# --- the home page ------------------------------------------------------------------------


def test_home_shows_invitations_my_rooms_and_rooms_to_discover(client, secret, owner, bob):
    mine = RoomFactory(name="Kitchen", topic="Recipes")
    MembershipFactory(room=mine, user=bob)
    message = MessageFactory(room=mine, author=owner)
    RoomFactory(name="Open Fields", topic="Wide and green")
    room_invite(room=secret, invited_by=owner, username="bob")
    client.force_login(bob)

    page = client.get("/").content.decode()

    invitations = page.split('id="my-invitations"')[1].split("</section>")[0]
    assert " hidden" not in invitations.split(">")[0]
    assert f"<strong>{owner.username}</strong> invited you to" in invitations
    assert f'action="/rooms/{secret.slug}/invitation/accept/"' in invitations
    assert f'action="/rooms/{secret.slug}/invitation/decline/"' in invitations
    assert 'name="csrfmiddlewaretoken"' in invitations
    my_rooms = page.split('id="my-room-links"')[1].split("</ul>")[0]
    assert f'data-room="{mine.slug}" data-unread="1"' in my_rooms
    assert f'<time datetime="{timezone.localtime(message.created_at).isoformat()}"' in my_rooms
    assert "Recipes" in my_rooms and f'data-room="{secret.slug}"' in my_rooms
    discover = page.split('id="discover-rooms"')[1].split("</ul>")[0]
    assert "Open Fields" in discover and "Wide and green" in discover and "0 members" in discover
    assert f'data-room="{mine.slug}"' not in discover
    assert 'href="/rooms/new/">Create a room</a>' in page
    assert 'data-user-socket="/ws/home/"' in page


def test_home_without_invitations_hides_their_section(client, bob):
    client.force_login(bob)
    page = client.get("/").content.decode()
    assert 'id="my-invitations" class="home-invitations" aria-labelledby="invitations-title" hidden' in page


def home_world(user, rooms):
    owner = UserFactory()
    for _ in range(rooms):
        mine = MembershipFactory(user=user).room
        MessageFactory.create_batch(2, room=mine, author=owner)
        MembershipFactory(room=RoomFactory(), user=owner)  # one more to discover
        invited = RoomFactory(is_private=True)
        MembershipFactory(room=invited, user=owner, role=OWNER)
        room_invite(room=invited, invited_by=owner, username=user.username)


def test_home_query_count_does_not_grow_with_rooms_or_invitations(client, db, django_assert_max_num_queries):
    small, large = UserFactory(), UserFactory()
    home_world(small, 1)
    home_world(large, 20)
    # Session, user, my rooms (unread, last activity, inviter), rooms to discover.
    for user in (small, large):
        client.force_login(user)
        with django_assert_max_num_queries(4):
            page = client.get("/").content.decode()
    assert page.count('class="invitation-card"') == 20


# --- answering an invitation --------------------------------------------------------------


@pytest.fixture
def invited(secret, owner, bob):
    room_invite(room=secret, invited_by=owner, username="bob")
    return bob


def answer(client, room, verb, **data):
    return client.post(f"/rooms/{room.slug}/invitation/{verb}/", data, headers=HTMX if data else {})


def test_accept_without_js_goes_to_the_room(client, secret, invited):
    client.force_login(invited)
    response = answer(client, secret, "accept")
    assert response.status_code == 303 and response["Location"] == f"/rooms/{secret.slug}/"
    assert not membership(secret, invited).invitation_pending


def test_decline_without_js_goes_home(client, secret, invited):
    client.force_login(invited)
    response = answer(client, secret, "decline")
    assert response.status_code == 303 and response["Location"] == "/"
    assert membership(secret, invited) is None


def test_accept_on_the_home_page_answers_with_its_lists(
    client, secret, invited, django_assert_max_num_queries
):
    client.force_login(invited)
    with django_assert_max_num_queries(8):
        fragment = answer(client, secret, "accept", shown_on="home").content.decode()
    assert 'hx-swap-oob="true" hidden>' in fragment and 'class="invitation-card"' not in fragment
    assert '<ul id="my-room-links" class="room-cards my-room-cards" hx-swap-oob="true">' in fragment
    assert f'data-room="{secret.slug}"' in fragment
    assert 'id="discover-rooms"' in fragment and "<html" not in fragment


def test_decline_in_the_sidebar_answers_with_the_sidebar(client, secret, invited):
    lobby = MembershipFactory(user=invited).room
    client.force_login(invited)
    fragment = answer(client, secret, "decline", shown_on="sidebar", current=lobby.slug).content.decode()
    assert '<div id="my-invitations" class="invitation-notices" hx-swap-oob="true">' in fragment
    assert '<ul id="my-room-links" class="room-links" hx-swap-oob="true">' in fragment
    assert f'data-room="{secret.slug}"' not in fragment
    assert re.search(rf'data-room="{lobby.slug}"[^>]*aria-current="page"', fragment)  # the page's room
    assert 'id="discover-rooms"' not in fragment


def test_declining_the_room_the_page_shows_leaves_the_page(client, secret, invited):
    client.force_login(invited)
    response = answer(client, secret, "decline", shown_on="sidebar", current=secret.slug)
    assert response["HX-Redirect"] == "/"
    assert membership(secret, invited) is None


def test_answers_need_post_a_login_and_a_room_the_user_may_read(client, secret, invited):
    url = f"/rooms/{secret.slug}/invitation/accept/"
    assert client.post(url).status_code == 302  # to the login page
    client.force_login(UserFactory())
    assert client.post(url).status_code == 404  # a private room: as if missing
    client.force_login(invited)
    assert client.get(url).status_code == 405
    assert membership(secret, invited).invitation_pending


def test_answers_are_csrf_protected(secret, invited):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(invited)
    for verb in ("accept", "decline"):
        assert answer(csrf_client, secret, verb).status_code == 403
        assert answer(csrf_client, secret, verb, shown_on="home").status_code == 403
    assert membership(secret, invited).invitation_pending
    csrf_client.get("/")  # sets the CSRF cookie, as a browser would
    token = csrf_client.cookies["csrftoken"].value
    response = csrf_client.post(f"/rooms/{secret.slug}/invitation/accept/", {"csrfmiddlewaretoken": token})
    assert response.status_code == 303 and not membership(secret, invited).invitation_pending


# --- join and leave answers carry the sidebar ---------------------------------------------------


def test_joining_with_htmx_answers_with_the_sidebar_out_of_band(client, bob):
    room = RoomFactory(name="Open Fields")
    client.force_login(bob)
    fragment = client.post(f"/rooms/{room.slug}/join/", headers=HTMX).content.decode()
    assert '<main id="room"' in fragment
    sidebar = fragment.split('<ul id="my-room-links" class="room-links" hx-swap-oob="true">')[1]
    assert f'data-room="{room.slug}"' in sidebar and 'aria-current="page"' in sidebar


def test_leaving_with_htmx_answers_with_the_sidebar_out_of_band(client, bob):
    room = RoomFactory(name="Open Fields")
    MembershipFactory(room=room, user=bob)
    client.force_login(bob)
    fragment = client.post(f"/rooms/{room.slug}/leave/", headers=HTMX).content.decode()
    assert 'data-user-socket="/ws/user/"' in fragment  # a reader now: the user's socket
    sidebar = fragment.split('<ul id="my-room-links" class="room-links" hx-swap-oob="true">')[1]
    assert f'data-room="{room.slug}"' not in sidebar


# --- the user's socket ---------------------------------------------------------------------------


async def open_user_socket(user, path="/ws/home/"):
    socket = WebsocketCommunicator(application, path, headers=[ORIGIN, await session_cookie(user)])
    connected, _ = await socket.connect(timeout=10)
    assert connected
    return socket


@live
async def test_the_user_socket_refuses_anonymous_visitors():
    socket = WebsocketCommunicator(application, "/ws/home/", headers=[ORIGIN])
    assert (await socket.connect(timeout=10))[0]
    assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}


@live
async def test_the_home_socket_shows_an_invitation_its_answer_and_a_ban():
    secret = await sync_to_async(RoomFactory)(name="Hidden Garden", is_private=True)
    lobby = await sync_to_async(RoomFactory)(name="Lobby")
    owner = await make_member(secret, role=OWNER)
    await sync_to_async(MembershipFactory)(room=lobby, user=owner, role=OWNER)
    user = await make_member(lobby)
    socket = await open_user_socket(user)
    first = await receive_until(socket, 'id="discover-rooms"')  # the lists, at once
    assert f'data-room="{lobby.slug}"' in first[-1]

    await sync_to_async(room_invite)(room=secret, invited_by=owner, username=user.username)
    frame = (await receive_until(socket, f'data-invitation="{secret.slug}"'))[-1]
    assert f"<strong>{owner.username}</strong> invited you to" in frame
    assert '<section id="my-invitations" class="home-invitations"' in frame
    assert f'id="room-link-{secret.slug}" class="room-card' in frame

    await sync_to_async(room_invitation_accept)(room=secret, user=user)
    frame = (await receive_until(socket, 'id="my-invitations"'))[-1]
    assert "data-invitation" not in frame and f'id="room-link-{secret.slug}"' in frame

    await sync_to_async(member_ban)(
        room=lobby, user=user, actor=owner, source=ModerationAction.Source.PAGE, reason=""
    )
    frame = (await receive_until(socket, 'id="my-room-links"'))[-1]
    assert f'data-room="{lobby.slug}"' not in frame.split('id="discover-rooms"')[0]
    await socket.disconnect()


@live
async def test_a_readers_socket_follows_joins_elsewhere_and_badges():
    lobby, garden = (
        await sync_to_async(RoomFactory)(name="Lobby"),
        await sync_to_async(RoomFactory)(name="Garden"),
    )
    user = await make_member(lobby)
    other = await make_member(lobby)
    socket = await open_user_socket(user, "/ws/user/")
    first = (await receive_until(socket, 'id="my-room-links"'))[-1]
    assert '<ul id="my-room-links" class="room-links" hx-swap-oob="true">' in first

    await sync_to_async(room_join)(room=garden, user=user)  # in another tab
    frame = (await receive_until(socket, f'data-room="{garden.slug}"'))[-1]
    assert 'id="my-room-links" class="room-links"' in frame

    await sync_to_async(message_post)(room=lobby, author=other, body="anyone?")
    badge = (await receive_until(socket, f'id="room-link-{lobby.slug}"'))[-1]
    assert 'data-unread="1"' in badge and 'class="room-link unread"' in badge
    await socket.disconnect()


@live
async def test_a_rename_reaches_a_members_room_page_and_home_page():
    lobby = await sync_to_async(RoomFactory)(name="Lobby")
    porch = await sync_to_async(RoomFactory)(name="Porch")
    owner = await make_member(porch, role=OWNER)
    user = await make_member(lobby)
    await sync_to_async(MembershipFactory)(room=porch, user=user)
    room_page = await open_socket(lobby.slug, user)  # on another room
    home = await open_user_socket(user)
    await receive_until(home, 'id="discover-rooms"')

    await sync_to_async(room_rename)(room=porch, actor=owner, name="Front Porch")

    for socket in (room_page, home):
        frame = (await receive_until(socket, 'id="my-room-links"'))[-1]
        assert "Front Porch" in frame
        await socket.disconnect()


@live
async def test_logging_out_closes_the_user_socket():
    user = await sync_to_async(UserFactory)()
    client = AsyncClient()
    await client.aforce_login(user)
    cookie = (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())
    socket = WebsocketCommunicator(application, "/ws/home/", headers=[ORIGIN, cookie])
    assert (await socket.connect(timeout=10))[0]
    await receive_until(socket, 'id="discover-rooms"')

    await client.post("/accounts/logout/")

    assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
    assert await sync_to_async(get_user_model().objects.filter(pk=user.pk).exists)()


async def outputs_until_close(socket):
    outputs = [await socket.receive_output(timeout=3)]
    while outputs[-1]["type"] != "websocket.close":
        outputs.append(await socket.receive_output(timeout=3))
    return outputs


@live
@override_settings(CHAT_MAX_SOCKETS_PER_USER=1)
async def test_the_user_socket_counts_towards_the_socket_cap_and_frees_its_place():
    room = await sync_to_async(RoomFactory)()
    user = await make_member(room)
    home = await open_user_socket(user)
    await receive_until(home, 'id="discover-rooms"')

    refused = await open_socket(room.slug, user)  # accepted, then closed
    assert (await outputs_until_close(refused))[-1] == {"type": "websocket.close", "code": 4429}
    await home.disconnect()

    room_socket = await open_socket(room.slug, user)  # the home page's place is free again
    await room_socket.send_json_to({"body": "in the freed place"})
    await receive_until(room_socket, "in the freed place")
    second_home = WebsocketCommunicator(
        application, "/ws/home/", headers=[ORIGIN, await session_cookie(user)]
    )
    assert (await second_home.connect(timeout=10))[0]
    assert (await outputs_until_close(second_home))[-1] == {"type": "websocket.close", "code": 4429}
    await room_socket.disconnect()
