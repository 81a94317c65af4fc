"""Moderation: admin actions (posted through the admin's own action form as staff),
in-page moderation by owners and moderators, reports, the audit trail and slow
mode; live effects asserted over real WebSockets."""

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient, Client
from django.utils import timezone

from messages_app import moderation
from messages_app.models import Message, ModerationAction, Report
from messages_app.services import MessageRejected, message_post, report_create
from rooms.models import Membership, Room
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory
from tests.sockets import live, open_socket, receive_until

ADMIN, PAGE = ModerationAction.Source.ADMIN, ModerationAction.Source.PAGE


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


def post_admin_action(client, model_path, action, objects):
    return client.post(
        f"/admin/{model_path}/",
        {"action": action, "_selected_action": [obj.pk for obj in objects], "index": 0},
    )


# --- admin actions ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_delete_and_restore_messages_are_recorded(staff_client, staff, room, member):
    message = message_post(room=room, author=member, body="rude words")

    post_admin_action(staff_client, "messages_app/message", "delete_messages", [message])
    message.refresh_from_db()
    assert message.deleted_at is not None and message.deleted_by == staff

    post_admin_action(staff_client, "messages_app/message", "restore_messages", [message])
    message.refresh_from_db()
    assert message.deleted_at is None
    actions = list(ModerationAction.objects.values_list("action", "source", "actor", "message"))
    assert actions == [("restore", "admin", staff.pk, message.pk), ("delete", "admin", staff.pk, message.pk)]


@pytest.mark.django_db
def test_admin_offers_no_hard_delete_of_messages(staff_client, room, member):
    message = message_post(room=room, author=member, body="keep the row")
    post_admin_action(staff_client, "messages_app/message", "delete_selected", [message])
    assert Message.objects.filter(pk=message.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "action, check",
    [
        ("member_ban_all", lambda m: m.banned_at is not None),
        ("member_mute_1h", lambda m: m.muted_until is not None and m.muted_until > timezone.now()),
        ("member_mute_24h", lambda m: m.muted_until > timezone.now() + timezone.timedelta(hours=23)),
        ("member_promote_all", lambda m: m.role == "moderator"),
    ],
)
def test_admin_membership_actions(staff_client, room, member, action, check):
    membership = Membership.objects.get(room=room, user=member)
    response = post_admin_action(staff_client, "rooms/membership", action, [membership])
    assert response.status_code == 302
    membership.refresh_from_db()
    assert check(membership)
    assert ModerationAction.objects.get().source == "admin"


@pytest.mark.django_db
def test_admin_unban_unmute_and_demote_undo(staff_client, staff, room, member):
    membership = Membership.objects.get(room=room, user=member)
    moderation.member_promote(room=room, user=member, actor=staff, source=ADMIN)
    moderation.member_mute(room=room, user=member, actor=staff, source=ADMIN, duration="1h")
    for action in ("member_demote_all", "member_unmute_all", "member_ban_all", "member_unban_all"):
        post_admin_action(staff_client, "rooms/membership", action, [membership])
    membership.refresh_from_db()
    assert (membership.role, membership.muted_until, membership.banned_at) == ("member", None, None)


@pytest.mark.django_db
def test_message_body_is_read_only_in_the_admin(staff_client, room, member):
    message = message_post(room=room, author=member, body="as written")
    page = staff_client.get(f"/admin/messages_app/message/{message.pk}/change/").content.decode()
    assert "as written" in page and 'name="body"' not in page
    staff_client.post(f"/admin/messages_app/message/{message.pk}/change/", {"body": "rewritten"})
    message.refresh_from_db()
    assert message.body == "as written"


@pytest.mark.django_db
def test_membership_moderation_fields_are_read_only_in_the_admin(staff_client, room, member):
    membership = Membership.objects.get(room=room, user=member)
    page = staff_client.get(f"/admin/rooms/membership/{membership.pk}/change/").content.decode()
    assert 'name="banned_at"' not in page and 'name="role"' not in page


@pytest.mark.django_db
def test_non_staff_cannot_use_the_admin(client, member):
    client.force_login(member)
    response = client.get("/admin/messages_app/message/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_message_changelist_never_counts_the_whole_table(
    staff_client, room, member, django_assert_max_num_queries
):
    MessageFactory.create_batch(60, room=room, author=member)
    with django_assert_max_num_queries(8) as queries:
        response = staff_client.get("/admin/messages_app/message/")
    assert response.status_code == 200 and "Message" in response.content.decode()
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT" in sql.upper() for sql in counts)


@pytest.mark.django_db
def test_audit_trail_is_read_only_and_filterable(staff_client, staff, room, member):
    moderation.member_ban(room=room, user=member, actor=staff, source=ADMIN, reason="spam")
    action = ModerationAction.objects.get()
    assert staff_client.get("/admin/messages_app/moderationaction/?action=ban").status_code == 200
    assert staff_client.get("/admin/messages_app/moderationaction/add/").status_code == 403
    response = staff_client.post(f"/admin/messages_app/moderationaction/{action.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403 and ModerationAction.objects.exists()


# --- reports ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_member_reports_a_message_once_and_staff_see_it_in_context(client, staff_client, room, member):
    reporter = MembershipFactory(room=room).user
    MessageFactory(room=room, author=member, body="context before")
    reported = MessageFactory(room=room, author=member, body="the bad one")
    client.force_login(reporter)

    client.post(f"/rooms/{room.slug}/messages/{reported.pk}/report/", {"reason": "insulting"})
    client.post(f"/rooms/{room.slug}/messages/{reported.pk}/report/", {"reason": "again"})

    report = Report.objects.get()
    assert (report.reporter, report.reason) == (reporter, "insulting")
    queue = staff_client.get("/admin/messages_app/report/").content.decode()
    assert "the bad one" in queue and "insulting" in queue
    detail = staff_client.get(f"/admin/messages_app/report/{report.pk}/change/").content.decode()
    assert "context before" in detail


@pytest.mark.django_db
def test_report_needs_a_reason_and_membership(client, room, member):
    message = MessageFactory(room=room, author=member)
    client.force_login(member)
    assert (
        client.post(f"/rooms/{room.slug}/messages/{message.pk}/report/", {"reason": " "}).status_code == 400
    )
    with pytest.raises(MessageRejected, match="Join the room"):
        report_create(room=room, reporter=UserFactory(), message_id=message.pk, reason="x")
    assert not Report.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("action, effect", [("resolve_deleted", "deleted"), ("resolve_banned", "banned")])
def test_staff_resolve_reports_from_the_queue(staff_client, room, member, action, effect):
    reporter = MembershipFactory(room=room).user
    message = MessageFactory(room=room, author=member)
    report = report_create(room=room, reporter=reporter, message_id=message.pk, reason="spam")

    post_admin_action(staff_client, "messages_app/report", action, [report])

    report.refresh_from_db()
    assert report.resolution == effect and report.resolved_at is not None
    message.refresh_from_db()
    membership = Membership.objects.get(room=room, user=member)
    assert (message.deleted_at is not None) == (effect == "deleted")
    assert membership.is_banned == (effect == "banned")


@pytest.mark.django_db
def test_staff_dismiss_a_report(staff_client, room, member):
    message = MessageFactory(room=room, author=member)
    report = report_create(room=room, reporter=member, message_id=message.pk, reason="meh")
    post_admin_action(staff_client, "messages_app/report", "resolve_dismissed", [report])
    report.refresh_from_db()
    assert report.resolution == "dismissed" and ModerationAction.objects.get().action == "dismiss"
    assert "meh" not in staff_client.get("/admin/messages_app/report/").content.decode()


# --- permissions on the room page --------------------------------------------------------------------


@pytest.mark.django_db
def test_in_page_moderation_permissions(client, room):
    owner = MembershipFactory(room=room, role="owner").user
    moderator = MembershipFactory(room=room, role="moderator").user
    member = MembershipFactory(room=room).user
    elsewhere_moderator = MembershipFactory(role="moderator").user
    MembershipFactory(room=room, user=elsewhere_moderator)

    def act(actor, target, action):
        client.force_login(actor)
        return client.post(f"/rooms/{room.slug}/members/{target.pk}/{action}/").status_code

    assert act(member, moderator, "mute-1h") == 403
    assert act(elsewhere_moderator, member, "ban") == 403
    assert act(moderator, owner, "ban") == 403
    assert act(moderator, member, "promote") == 403
    assert act(moderator, member, "mute-24h") == 303
    assert act(owner, member, "promote") == 303
    assert act(owner, moderator, "ban") == 303
    assert act(owner, member, "explode") == 404
    roles = dict(Membership.objects.filter(room=room).values_list("user_id", "role"))
    assert roles[member.pk] == "moderator"
    assert Membership.objects.get(room=room, user=moderator).is_banned
    assert ModerationAction.objects.filter(source=PAGE).count() == 3


@pytest.mark.django_db
def test_moderators_delete_any_message_in_their_room_only(client, room):
    moderator = MembershipFactory(room=room, role="moderator").user
    author = MembershipFactory(room=room).user
    message = MessageFactory(room=room, author=author)
    other_room_message = MessageFactory(room=MembershipFactory(user=moderator).room)
    client.force_login(moderator)

    assert client.post(f"/rooms/{room.slug}/messages/{message.pk}/delete/").status_code == 303
    slug = other_room_message.room.slug
    assert client.post(f"/rooms/{slug}/messages/{other_room_message.pk}/delete/").status_code == 403
    assert ModerationAction.objects.get().message_id == message.pk


# --- ban, mute, slow mode: effects -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_banned_user_cannot_rejoin_post_or_read(client, staff, room, member):
    moderation.member_ban(room=room, user=member, actor=staff, source=ADMIN)
    client.force_login(member)
    assert client.get(f"/rooms/{room.slug}/").status_code == 403
    assert client.post(f"/rooms/{room.slug}/join/").status_code == 403
    assert client.post(f"/rooms/{room.slug}/messages/", {"body": "let me back"}).status_code == 403
    assert client.get(f"/rooms/{room.slug}/messages/?after=0").status_code == 403
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_muted_user_is_told_until_when_and_keeps_the_draft(client, staff, room, member):
    moderation.member_mute(room=room, user=member, actor=staff, source=ADMIN, duration="1h")
    client.force_login(member)
    response = client.post(f"/rooms/{room.slug}/messages/", {"body": "my careful draft"})
    page = response.content.decode()
    assert response.status_code == 400 and "muted until" in page and "my careful draft</textarea>" in page


@pytest.mark.django_db
def test_slow_mode_allows_one_message_per_interval_and_spares_moderators(room, member, staff):
    moderation.room_set_slow_mode(room=room, seconds=30, actor=staff, source=ADMIN)
    room.refresh_from_db()
    message_post(room=room, author=member, body="one")
    with pytest.raises(MessageRejected, match="Slow mode"):
        message_post(room=room, author=member, body="two")
    moderator = MembershipFactory(room=room, role="moderator").user
    message_post(room=room, author=moderator, body="a")
    message_post(room=room, author=moderator, body="b")
    assert ModerationAction.objects.get().action == "slow_mode"


@pytest.mark.django_db
def test_slow_mode_turned_on_after_a_socket_connected_still_applies_to_it(room, member, staff):
    """A socket holds the Room it loaded when it connected: the rule reads the room afresh."""
    room_as_loaded_at_connect = Room.objects.get(pk=room.pk)
    moderation.room_set_slow_mode(room=room, seconds=30, actor=staff, source=ADMIN)
    message_post(room=room_as_loaded_at_connect, author=member, body="one")
    with pytest.raises(MessageRejected, match="Slow mode"):
        message_post(room=room_as_loaded_at_connect, author=member, body="two")


@pytest.mark.django_db
def test_slow_mode_form_for_moderators_only(client, room, member):
    client.force_login(member)
    assert client.post(f"/rooms/{room.slug}/slow-mode/", {"seconds": "10"}).status_code == 403
    owner = MembershipFactory(room=room, role="owner").user
    client.force_login(owner)
    assert client.post(f"/rooms/{room.slug}/slow-mode/", {"seconds": "10"}).status_code == 303
    room.refresh_from_db()
    assert room.slow_mode_seconds == 10


# --- live effects over WebSockets ---------------------------------------------------------------------


@sync_to_async
def room_with_staff_and_two_members():
    room = RoomFactory()
    staff = UserFactory(is_staff=True, is_superuser=True)
    return room, staff, MembershipFactory(room=room).user, MembershipFactory(room=room).user


async def post_admin_action_as(staff, model_path, action, pks):
    client = AsyncClient()
    await client.aforce_login(staff)
    await client.post(f"/admin/{model_path}/", {"action": action, "_selected_action": pks, "index": 0})


@live
async def test_admin_deletion_disappears_from_every_open_page():
    room, staff, author, reader = await room_with_staff_and_two_members()
    message = await sync_to_async(message_post)(room=room, author=author, body="to be removed")
    viewer = await open_socket(room.slug, reader)

    await post_admin_action_as(staff, "messages_app/message", "delete_messages", [message.pk])

    frame = (await receive_until(viewer, f'id="message-{message.pk}"'))[-1]
    assert "message deleted" in frame and "to be removed" not in frame
    await viewer.disconnect()


@live
async def test_admin_ban_closes_the_users_sockets_with_4403_and_says_why():
    room, staff, banned, other = await room_with_staff_and_two_members()
    socket = await open_socket(room.slug, banned)
    membership = await Membership.objects.aget(room=room, user=banned)

    await post_admin_action_as(staff, "rooms/membership", "member_ban_all", [membership.pk])

    notice = (await receive_until(socket, "banned"))[-1]
    assert 'id="composer"' in notice and "You have been banned" in notice
    assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 4403}
    reconnect = await open_socket(room.slug, banned)
    assert await reconnect.receive_output(timeout=3) == {"type": "websocket.close", "code": 4403}
