"""Rooms: services, selectors and pages (directory, create, room page, join, leave)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messages_app.selectors import membership_list_for_user, room_list_public
from rooms.models import Membership, Room
from rooms.selectors import room_access, room_members
from rooms.services import RoomError, room_create, room_join, room_leave
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- services ---------------------------------------------------------------


def test_room_create_makes_the_creator_owner_and_a_unique_slug(user):
    first = room_create(name="Book Club", created_by=user, topic=" Novels ")
    second = room_create(name="Book club!", created_by=user)

    assert (first.slug, second.slug) == ("book-club", "book-club-2")
    assert first.topic == "Novels"
    assert Membership.objects.get(room=first, user=user).role == Membership.Role.OWNER


def test_room_create_never_takes_a_reserved_slug(user):
    assert room_create(name="New", created_by=user).slug == "new-2"


def test_room_create_refuses_a_blank_name(user):
    with pytest.raises(RoomError):
        room_create(name="   ", created_by=user)
    assert not Room.objects.exists()


def test_room_join_public_room_makes_a_member_once(room, user):
    first = room_join(room=room, user=user)
    again = room_join(room=room, user=user)
    assert first.pk == again.pk and first.role == Membership.Role.MEMBER


def test_room_join_refuses_private_rooms_and_banned_users(user):
    private = RoomFactory(is_private=True)
    with pytest.raises(RoomError, match="invitation"):
        room_join(room=private, user=user)
    public = RoomFactory()
    MembershipFactory(room=public, user=user, banned_at=timezone.now())
    with pytest.raises(RoomError, match="banned"):
        room_join(room=public, user=user)


def test_room_leave_removes_membership_but_keeps_a_ban(room, user):
    MembershipFactory(room=room, user=user)
    room_leave(room=room, user=user)
    assert not Membership.objects.filter(room=room, user=user).exists()

    banned = UserFactory()
    MembershipFactory(room=room, user=banned, banned_at=timezone.now())
    room_leave(room=room, user=banned)
    assert Membership.objects.get(room=room, user=banned).is_banned


# --- selectors ----------------------------------------------------------------


def test_room_access_hides_private_rooms_from_non_members(user):
    private = RoomFactory(is_private=True)
    assert room_access(slug=private.slug, user=user) is None
    assert room_access(slug="missing", user=user) is None
    MembershipFactory(room=private, user=user)
    access = room_access(slug=private.slug, user=user)
    assert access.can_read and access.can_post


def test_room_access_of_public_room_reader_and_banned_member(room, user):
    reader = room_access(slug=room.slug, user=user)
    assert reader.can_read and not reader.can_post
    MembershipFactory(room=room, user=user, banned_at=timezone.now())
    banned = room_access(slug=room.slug, user=user)
    assert banned.is_banned and not banned.can_read and not banned.can_post


def test_room_lists_public_with_member_counts_and_mine_with_private(user):
    public = RoomFactory(name="Alpha")
    MembershipFactory.create_batch(2, room=public)
    MembershipFactory(room=public, banned_at=timezone.now())
    private = RoomFactory(name="Beta", is_private=True)
    MembershipFactory(room=private, user=user)

    assert [(r.name, r.member_count) for r in room_list_public()] == [("Alpha", 2)]
    assert [m.room for m in membership_list_for_user(user=user)] == [private]


def test_room_members_lists_owners_first_without_banned(room):
    member = MembershipFactory(room=room, user=UserFactory(username="aaron"))
    owner = MembershipFactory(room=room, user=UserFactory(username="zed"), role=Membership.Role.OWNER)
    MembershipFactory(room=room, banned_at=timezone.now())
    assert room_members(room=room) == [owner, member]


# --- pages ----------------------------------------------------------------------


def test_directory_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_directory_shows_public_and_my_rooms_but_not_others_private(client, user):
    RoomFactory(name="Open Room")
    mine = RoomFactory(name="My Secret", is_private=True)
    MembershipFactory(room=mine, user=user)
    RoomFactory(name="Their Secret", is_private=True)
    client.force_login(user)

    page = client.get("/").content.decode()

    assert "Open Room" in page and "My Secret" in page
    assert "Their Secret" not in page
    assert f'data-room="{mine.slug}"' in page


def test_directory_query_count_does_not_grow_with_rooms(client, user, django_assert_max_num_queries):
    for _ in range(20):
        MembershipFactory(user=user)
    client.force_login(user)
    with django_assert_max_num_queries(6):
        client.get("/")


def test_create_room_page_makes_owner_and_redirects_to_the_room(client, user):
    client.force_login(user)
    assert client.get("/rooms/new/").status_code == 200

    response = client.post("/rooms/new/", {"name": "Garden Club", "topic": "Roses", "is_private": "on"})

    room = Room.objects.get(slug="garden-club")
    assert response.status_code == 303 and response["Location"] == "/rooms/garden-club/"
    assert room.is_private and room.created_by == user
    assert Membership.objects.get(room=room, user=user).role == "owner"


def test_create_room_is_csrf_protected(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/rooms/new/", {"name": "Forged"}).status_code == 403
    assert not Room.objects.filter(name="Forged").exists()


def test_room_page_shows_last_50_messages_oldest_first_with_composer(client, room, member):
    messages = MessageFactory.create_batch(60, room=room, author=member)
    client.force_login(member)

    page = client.get(f"/rooms/{room.slug}/").content.decode()

    assert f'id="message-{messages[9].pk}"' not in page
    assert f'id="message-{messages[10].pk}"' in page
    assert page.index(f'id="message-{messages[10].pk}"') < page.index(f'id="message-{messages[59].pk}"')
    assert 'id="composer"' in page and f'ws-connect="/ws/rooms/{room.slug}/"' in page


def test_the_room_page_has_no_id_twice(client, room, member):
    MessageFactory.create_batch(3, room=room, author=member)
    client.force_login(member)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert ids and [i for i in set(ids) if ids.count(i) > 1] == []


def _room_page_queries(client, room, member):
    client.force_login(member)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/rooms/{room.slug}/").status_code == 200
    return len(queries)


def test_room_page_query_count_is_constant(client, django_assert_max_num_queries):
    small, large = RoomFactory(), RoomFactory()
    small_member, large_member = MembershipFactory(room=small).user, MembershipFactory(room=large).user
    MessageFactory.create_batch(3, room=small, author=small_member)
    MembershipFactory.create_batch(10, room=large)
    MessageFactory.create_batch(80, room=large, author=large_member)
    for _ in range(5):
        MembershipFactory(user=large_member)

    assert _room_page_queries(client, small, small_member) == _room_page_queries(client, large, large_member)
    with django_assert_max_num_queries(11):  # 10th: the member's notification level; 11th: reactions
        client.get(f"/rooms/{large.slug}/")


def test_public_room_reader_sees_history_and_join_button_but_no_socket(client, room, user):
    MessageFactory(room=room, body="visible to readers")
    client.force_login(user)

    page = client.get(f"/rooms/{room.slug}/").content.decode()

    assert "visible to readers" in page and "Join room" in page
    assert "ws-connect" not in page and 'id="composer"' not in page


def test_private_room_page_is_404_for_non_members(client, user):
    private = RoomFactory(is_private=True)
    client.force_login(user)
    assert client.get(f"/rooms/{private.slug}/").status_code == 404
    assert client.post(f"/rooms/{private.slug}/join/").status_code == 404
    assert not Membership.objects.filter(room=private, user=user).exists()


def test_banned_member_cannot_read_the_room(client, room, user):
    MembershipFactory(room=room, user=user, banned_at=timezone.now())
    client.force_login(user)
    assert client.get(f"/rooms/{room.slug}/").status_code == 403


def test_join_then_leave_redirect_with_303(client, room, user):
    client.force_login(user)

    joined = client.post(f"/rooms/{room.slug}/join/")
    assert joined.status_code == 303 and joined["Location"] == f"/rooms/{room.slug}/"
    assert Membership.objects.filter(room=room, user=user).exists()

    left = client.post(f"/rooms/{room.slug}/leave/")
    assert left.status_code == 303 and left["Location"] == "/"
    assert not Membership.objects.filter(room=room, user=user).exists()


def test_join_by_htmx_returns_the_updated_room_fragment(client, room, user):
    client.force_login(user)
    response = client.post(f"/rooms/{room.slug}/join/", headers={"HX-Request": "true"})
    fragment = response.content.decode()
    assert response.status_code == 200
    assert fragment.lstrip().startswith('<main id="room"') or 'id="room"' in fragment
    assert 'id="composer"' in fragment and "<html" not in fragment


def test_join_and_leave_need_post(client, room, user):
    client.force_login(user)
    assert client.get(f"/rooms/{room.slug}/join/").status_code == 405
    assert client.get(f"/rooms/{room.slug}/leave/").status_code == 405
