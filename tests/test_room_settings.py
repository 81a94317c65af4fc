"""The owner's room settings (rename, topic, privacy, archive, restore, delete) and a
new room's empty state: the services' rules, the views (permissions, CSRF, query
counts), and the live effects over real WebSockets."""

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messages_app.models import Message
from messages_app.services import MessageRejected, message_edit, message_post
from rooms import services
from rooms.models import Membership, Room
from rooms.services import RoomError, RoomPermissionDenied
from tests.clients import logged_in
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory
from tests.sockets import COMPOSER_CLEARED, joined_socket, live, make_member, receive_all, receive_until

OWNER, MODERATOR = Membership.Role.OWNER, Membership.Role.MODERATOR


@pytest.fixture
def owner(room):
    return MembershipFactory(room=room, role=OWNER).user


@pytest.fixture
def moderator(room):
    return MembershipFactory(room=room, role=MODERATOR).user


# --- services --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_owner_renames_room_changes_topic_and_privacy_and_the_slug_stays(room, owner):
    slug = room.slug
    services.room_settings_update(
        room=room, actor=owner, name="  Garden   Club ", topic=" Roses ", is_private=True
    )

    room.refresh_from_db()
    assert (room.name, room.topic, room.is_private, room.slug) == ("Garden Club", "Roses", True, slug)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [MODERATOR, Membership.Role.MEMBER, None])
def test_only_owners_change_archive_restore_or_delete_a_room(room, role):
    actor = MembershipFactory(room=room, role=role).user if role else UserFactory()
    calls = [
        lambda: services.room_settings_update(room=room, actor=actor, name="Taken over"),
        lambda: services.room_archive(room=room, actor=actor),
        lambda: services.room_restore(room=room, actor=actor),
        lambda: services.room_delete(room=room, actor=actor),
    ]
    for call in calls:
        with pytest.raises(RoomPermissionDenied):
            call()
    room.refresh_from_db()
    assert room.name != "Taken over" and room.archived_at is None


@pytest.mark.django_db
def test_a_banned_owner_changes_nothing(room, owner):
    Membership.objects.filter(room=room, user=owner).update(banned_at="2026-01-01T00:00Z")
    with pytest.raises(RoomPermissionDenied):
        services.room_archive(room=room, actor=owner)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_rename_refuses_an_empty_or_overlong_name(room, owner, name):
    old = room.name
    with pytest.raises(RoomError):
        services.room_settings_update(room=room, actor=owner, name=name)
    room.refresh_from_db()
    assert room.name == old


@pytest.mark.django_db
def test_an_archived_room_refuses_posts_and_edits_until_restored(room, owner, member):
    message = message_post(room=room, author=member, body="before")
    services.room_archive(room=room, actor=owner)

    with pytest.raises(MessageRejected, match="archived"):
        message_post(room=room, author=member, body="after")
    with pytest.raises(MessageRejected, match="archived"):
        message_edit(room=room, user=member, message_id=message.pk, body="changed")
    assert list(Message.objects.values_list("body", flat=True)) == ["before"]

    services.room_restore(room=room, actor=owner)
    assert message_post(room=room, author=member, body="open again").pk


@pytest.mark.django_db
def test_an_archived_room_refuses_the_post_fallback_too(room, owner, member):
    services.room_archive(room=room, actor=owner)
    response = logged_in(member).post(f"/rooms/{room.slug}/messages/", {"body": "by POST"})
    assert "archived: it is read-only" in response.content.decode()
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_nobody_joins_an_archived_room(room, owner, user):
    services.room_archive(room=room, actor=owner)
    with pytest.raises(RoomError, match="archived"):
        services.room_join(room=room, user=user)
    assert not Membership.objects.filter(room=room, user=user).exists()


@pytest.mark.django_db
def test_delete_removes_the_room_its_members_and_messages(room, owner, member):
    MessageFactory.create_batch(3, room=room, author=member)
    services.room_delete(room=room, actor=owner)
    assert not Room.objects.exists() and not Message.objects.exists() and not Membership.objects.exists()


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_archived_room_leaves_the_directory_and_stays_marked_in_my_rooms(room, owner, user):
    room.name = "Old Times"
    room.save()
    services.room_archive(room=room, actor=owner)

    assert "Old Times" not in logged_in(user).get("/").content.decode()
    mine = logged_in(owner).get("/").content.decode()
    assert f'id="room-link-{room.slug}"' in mine and "archived-mark" in mine

    services.room_restore(room=room, actor=owner)
    assert "Old Times" in logged_in(user).get("/").content.decode()


@pytest.mark.django_db
def test_a_room_made_private_leaves_the_directory_and_its_page_for_non_members(room, owner, user):
    room.name = "Going Private"
    room.save()
    services.room_settings_update(room=room, actor=owner, is_private=True)
    client = logged_in(user)
    assert "Going Private" not in client.get("/").content.decode()
    assert client.get(f"/rooms/{room.slug}/").status_code == 404
    assert logged_in(owner).get(f"/rooms/{room.slug}/").status_code == 200


@pytest.mark.django_db
def test_the_archived_room_page_shows_the_notice_with_restore_for_its_owner(room, owner, member):
    services.room_archive(room=room, actor=owner)
    page = logged_in(member).get(f"/rooms/{room.slug}/").content.decode()
    assert "This room is archived." in page and f'action="/rooms/{room.slug}/restore/"' in page
    assert "Archive the room" not in page  # the owner's settings are not a member's

    owner_page = logged_in(owner).get(f"/rooms/{room.slug}/").content.decode()
    assert 'class="owner-only"' in owner_page and "Archive the room" not in owner_page


@pytest.mark.django_db
def test_settings_panel_owners_get_all_moderators_only_slow_mode(room, owner, moderator):
    owner_page = logged_in(owner).get(f"/rooms/{room.slug}/").content.decode()
    for action in ("settings", "archive", "delete", "slow-mode"):
        assert f'action="/rooms/{room.slug}/{action}/"' in owner_page
    moderator_page = logged_in(moderator).get(f"/rooms/{room.slug}/").content.decode()
    assert f'action="/rooms/{room.slug}/slow-mode/"' in moderator_page
    for action in ("settings", "archive", "delete"):
        assert f'action="/rooms/{room.slug}/{action}/"' not in moderator_page


@pytest.mark.django_db
def test_settings_view_saves_and_redirects_to_the_same_url(room, owner):
    client = logged_in(owner)
    response = client.post(f"/rooms/{room.slug}/settings/", {"name": "New Name", "topic": "New topic"})
    assert response.status_code == 303 and response["Location"] == f"/rooms/{room.slug}/"
    room.refresh_from_db()
    assert (room.name, room.topic, room.is_private) == ("New Name", "New topic", False)
    assert "New topic" in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_settings_view_refuses_an_empty_name_with_the_panel_open(room, owner):
    response = logged_in(owner).post(f"/rooms/{room.slug}/settings/", {"name": " ", "topic": ""})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="room-settings" class="room-settings" open' in page and "A room needs a name." in page


@pytest.mark.django_db
def test_settings_refusals_to_htmx_are_the_open_panel_with_the_reason(room, owner):
    client = logged_in(owner)
    htmx = {"HX-Request": "true"}
    response = client.post(f"/rooms/{room.slug}/delete/", {"confirm_name": "nope"}, headers=htmx)
    panel = response.content.decode()
    assert response.status_code == 200
    assert 'id="room-settings" class="room-settings" open' in panel and "to delete it" in panel
    assert 'id="room"' not in panel  # the panel alone, not the page
    assert Room.objects.filter(pk=room.pk).exists()

    response = client.post(f"/rooms/{room.slug}/delete/", {"confirm_name": room.name}, headers=htmx)
    assert response.status_code == 200 and response["HX-Redirect"] == "/"
    assert not Room.objects.filter(pk=room.pk).exists()


@pytest.mark.django_db
def test_delete_view_asks_for_the_name_then_deletes_and_goes_to_the_directory(room, owner):
    client = logged_in(owner)
    response = client.post(f"/rooms/{room.slug}/delete/", {"confirm_name": "wrong"})
    assert response.status_code == 400 and "to delete it" in response.content.decode()
    assert Room.objects.filter(pk=room.pk).exists()

    response = client.post(f"/rooms/{room.slug}/delete/", {"confirm_name": room.name})
    assert response.status_code == 303 and response["Location"] == "/"
    assert not Room.objects.filter(pk=room.pk).exists()
    assert f"{room.name} was deleted." in client.get("/").content.decode()
    assert client.get(f"/rooms/{room.slug}/").status_code == 404


@pytest.mark.django_db
def test_archive_and_restore_views(room, owner):
    client = logged_in(owner)
    assert client.post(f"/rooms/{room.slug}/archive/").status_code == 303
    room.refresh_from_db()
    assert room.archived_at is not None
    # The archived notice's Restore button posts with htmx: the page reloads.
    response = client.post(f"/rooms/{room.slug}/restore/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Redirect"] == f"/rooms/{room.slug}/"
    room.refresh_from_db()
    assert room.archived_at is None


SETTINGS_POSTS = [
    ("settings", {"name": "Forged", "topic": ""}),
    ("archive", {}),
    ("restore", {}),
    ("delete", {"confirm_name": "Room"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "data"), SETTINGS_POSTS)
def test_settings_views_refuse_non_owners(room, moderator, action, data):
    room.name = "Room"
    room.save()
    response = logged_in(moderator).post(f"/rooms/{room.slug}/{action}/", data)
    assert response.status_code == 403
    room.refresh_from_db()
    assert room.name == "Room" and room.archived_at is None


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "data"), SETTINGS_POSTS)
def test_settings_views_are_csrf_protected(room, owner, action, data):
    room.name = "Room"
    room.save()
    response = logged_in(owner, enforce_csrf_checks=True).post(f"/rooms/{room.slug}/{action}/", data)
    assert response.status_code == 403
    room.refresh_from_db()
    assert room.name == "Room" and room.archived_at is None


def _queries(client, url, data):
    with CaptureQueriesContext(connection) as queries:
        assert client.post(url, data).status_code == 303
    return len(queries)


@pytest.mark.django_db
def test_settings_views_query_counts_do_not_grow_with_members(django_assert_max_num_queries):
    small, large = RoomFactory(), RoomFactory()
    small_owner = MembershipFactory(room=small, role=OWNER).user
    large_owner = MembershipFactory(room=large, role=OWNER).user
    MembershipFactory.create_batch(20, room=large)
    small_client, large_client = logged_in(small_owner), logged_in(large_owner)
    for action, data in [("settings", {"name": "Renamed"}), ("archive", {}), ("restore", {})]:
        small_count = _queries(small_client, f"/rooms/{small.slug}/{action}/", data)
        assert small_count == _queries(large_client, f"/rooms/{large.slug}/{action}/", data), action
    with django_assert_max_num_queries(10):
        large_client.post(f"/rooms/{large.slug}/settings/", {"name": "Renamed again", "topic": "t"})
    # Django's collector deletes the cascade: messages, their files, memberships, links, audit
    # trail, notification levels, notifications and incoming webhooks.
    with django_assert_max_num_queries(17):
        large_client.post(f"/rooms/{large.slug}/delete/", {"confirm_name": "Renamed again"})


# --- a new room's empty state ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_new_room_shows_where_it_starts_with_its_topic_and_the_owners_invite_button(room, owner, member):
    room.topic = "All about roses"
    room.save()
    page = logged_in(owner).get(f"/rooms/{room.slug}/").content.decode()
    assert f"This is the start of #{room.name}" in page and "All about roses" in page
    assert 'data-opens="invite-panel"' in page
    assert 'data-opens="invite-panel"' not in logged_in(member).get(f"/rooms/{room.slug}/").content.decode()

    MessageFactory(room=room, author=member)
    assert "This is the start of" not in logged_in(owner).get(f"/rooms/{room.slug}/").content.decode()


# --- live effects ------------------------------------------------------------------------------


def _room_with_owner():
    room = RoomFactory(name="Before")
    owner = MembershipFactory(room=room, role=OWNER).user
    return room, owner


@live
async def test_an_archived_room_refuses_socket_posts_with_a_clear_error(channel_layer):
    room, owner = await sync_to_async(_room_with_owner)()
    member = await make_member(room)
    socket = await joined_socket(room, member)

    await sync_to_async(services.room_archive)(room=room, actor=owner)
    notice = await receive_until(socket, 'id="room-notice"')
    assert "This room is archived." in notice[-1]

    await socket.send_json_to({"body": "still here?"})
    refusal = await receive_until(socket, 'id="composer-errors"')
    assert "archived: it is read-only" in refusal[-1]
    assert not await sync_to_async(Message.objects.filter(body="still here?").exists)()

    await sync_to_async(services.room_restore)(room=room, actor=owner)
    reopened = await receive_until(socket, 'id="room-notice"')
    assert "archived" not in reopened[-1]
    await socket.send_json_to({"body": "open again"})
    await receive_all(socket, "open again", COMPOSER_CLEARED)
    await socket.disconnect()


@live
async def test_a_rename_updates_the_header_in_the_room_and_every_members_sidebar(channel_layer):
    room, owner = await sync_to_async(_room_with_owner)()
    elsewhere = await sync_to_async(RoomFactory)()
    member = await make_member(room)
    await sync_to_async(MembershipFactory)(room=elsewhere, user=member)
    in_room = await joined_socket(room, member)
    in_other_room = await joined_socket(elsewhere, member)

    update = sync_to_async(services.room_settings_update)
    await update(room=room, actor=owner, name="After", topic="New topic")

    header = (await receive_until(in_room, 'id="room-title"'))[-1]
    assert "After" in header and "New topic" in header and 'hx-swap-oob="true"' in header
    sidebar = (await receive_until(in_other_room, 'id="my-room-links"'))[-1]
    assert f'id="room-link-{room.slug}"' in sidebar and "After" in sidebar and "Before" not in sidebar
    for socket in (in_room, in_other_room):
        await socket.disconnect()


@live
async def test_a_deleted_room_tells_its_pages_closes_their_sockets_and_leaves_sidebars(channel_layer):
    room, owner = await sync_to_async(_room_with_owner)()
    elsewhere = await sync_to_async(RoomFactory)()
    member = await make_member(room)
    await sync_to_async(MembershipFactory)(room=elsewhere, user=member)
    in_room = await joined_socket(room, member)
    in_other_room = await joined_socket(elsewhere, member)
    slug = room.slug

    await sync_to_async(services.room_delete)(room=room, actor=owner)

    gone = (await receive_until(in_room, "was deleted by its owner"))[-1]
    assert 'id="room-notice"' in gone
    assert (await in_room.receive_output(timeout=3)) == {"type": "websocket.close", "code": 4404}
    sidebar = (await receive_until(in_other_room, 'id="my-room-links"'))[-1]
    assert f'id="room-link-{slug}"' not in sidebar and f'id="room-link-{elsewhere.slug}"' in sidebar
    await in_other_room.disconnect()
