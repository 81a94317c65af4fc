"""Notifications (issue 15): levels per room and per direct conversation, who hears
of a message and why, the background task that records it, and the room menu's
control. Push, email and the page's own notices have their own tests."""

import re
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import Block
from config.asgi import application
from messages_app.services import message_delete, message_post
from notifications.models import Level, Notification, Preferences, PushSubscription, RoomLevel
from notifications.services import (
    message_may_notify,
    notification_recipients,
    preferences_save,
    quiet_until,
    room_level_of,
    room_level_set,
)
from notifications.tasks import notify_message
from rooms.services import direct_conversation_open
from tests.background import run_worker
from tests.clients import logged_in
from tests.factories import MembershipFactory, RoomFactory, UserFactory
from tests.sockets import ORIGIN, live, make_member, open_socket, receive_until, session_cookie

pytestmark = pytest.mark.django_db

Reason = Notification.Reason
MENTION, DIRECT, MESSAGE = Reason.MENTION, Reason.DIRECT, Reason.MESSAGE


@pytest.fixture
def author(room):
    return MembershipFactory(room=room, role="moderator").user


def member_of(room, level=None):
    user = MembershipFactory(room=room).user
    if level is not None:
        room_level_set(user=user, room=room, level=level)
    return user


def recipients(message, mentioned=()):
    return dict(notification_recipients(message=message, mentioned_ids=list(mentioned)))


# --- levels -----------------------------------------------------------------------------------


def test_rooms_default_to_mentions_and_direct_conversations_to_everything(room, member):
    other = UserFactory()
    direct = direct_conversation_open(user=member, others=[other])
    assert room_level_of(user=member, room=room) == Level.MENTIONS
    assert room_level_of(user=member, room=direct) == Level.ALL


def test_a_choice_for_one_room_wins_over_the_persons_defaults(room, member):
    Preferences.objects.create(user=member, room_level=Level.ALL)
    other_room = RoomFactory()
    MembershipFactory(room=other_room, user=member)
    room_level_set(user=member, room=room, level=Level.NOTHING)
    assert room_level_of(user=member, room=room) == Level.NOTHING
    assert room_level_of(user=member, room=other_room) == Level.ALL


# --- who hears of a message -------------------------------------------------------------------


def test_each_level_hears_what_it_asked_for(room, author):
    everything, mentions, muted = member_of(room, Level.ALL), member_of(room), member_of(room, Level.NOTHING)
    plain = message_post(room=room, author=author, body="hello")
    assert recipients(plain) == {everything.pk: MESSAGE}
    named = message_post(room=room, author=author, body=f"@{mentions.username} @{muted.username} look")
    assert recipients(named, [mentions.pk, muted.pk]) == {everything.pk: MESSAGE, mentions.pk: MENTION}


def test_a_room_mention_reaches_every_level_but_nothing(room, author):
    everything, mentions, muted = member_of(room, Level.ALL), member_of(room), member_of(room, Level.NOTHING)
    message = message_post(room=room, author=author, body="@here standup")
    mentioned = list(message.mentions.values_list("id", flat=True))
    assert set(mentioned) == {everything.pk, mentions.pk, muted.pk}  # the badge counts it for all
    assert recipients(message, mentioned) == {everything.pk: MENTION, mentions.pk: MENTION}


def test_a_direct_message_notifies_unless_muted(member):
    friend, quiet = UserFactory(), UserFactory()
    direct = direct_conversation_open(user=member, others=[friend, quiet])
    room_level_set(user=quiet, room=direct, level=Level.NOTHING)
    message = message_post(room=direct, author=member, body="dinner?")
    assert recipients(message) == {friend.pk: DIRECT}


def test_never_the_author_a_banned_member_or_someone_who_blocked_the_author(room, author):
    hearer = member_of(room, Level.ALL)
    banned = member_of(room, Level.ALL)
    blocker = member_of(room, Level.ALL)
    room_level_set(user=author, room=room, level=Level.ALL)
    banned.memberships.filter(room=room).update(banned_at=timezone.now())
    Block.objects.create(blocker=blocker, blocked=author)
    message = message_post(room=room, author=author, body="hi")
    assert recipients(message) == {hearer.pk: MESSAGE}


def test_the_message_path_looks_once_and_only_queues_work_that_can_notify(
    room, author, django_assert_max_num_queries
):
    member_of(room)
    plain = message_post(room=room, author=author, body="nobody follows everything")
    with django_assert_max_num_queries(1):
        assert not message_may_notify(message=plain, mentioned_ids=[])
    with django_assert_max_num_queries(0):  # asked again: the cache knows
        assert not message_may_notify(message=plain, mentioned_ids=[])
    follower = member_of(room)
    preferences_save(user=follower, room_level=Level.ALL, direct_level=Level.ALL, email_enabled=True)
    assert message_may_notify(message=plain, mentioned_ids=[])
    room_level_set(user=follower, room=room, level=Level.MENTIONS)  # this room: mentions only
    assert not message_may_notify(message=plain, mentioned_ids=[])
    assert message_may_notify(message=plain, mentioned_ids=[follower.pk])


# --- the background task ----------------------------------------------------------------------


def queued_notify_tasks():
    return DBTaskResult.objects.filter(task_path=notify_message.module_path)


@pytest.mark.django_db(transaction=True)
def test_a_posted_mention_is_recorded_by_the_worker_once(room, author):
    mentioned, bystander = member_of(room), member_of(room)
    message_post(room=room, author=author, body="nobody is named here")
    assert not queued_notify_tasks().exists()  # nothing to do: no task at all
    message = message_post(room=room, author=author, body=f"@{mentioned.username} ship it?")
    assert queued_notify_tasks().count() == 1
    run_worker()
    notify_message.call(message.pk, [mentioned.pk])  # run twice: still one notification
    (notification,) = Notification.objects.all()
    assert (notification.user, notification.message, notification.reason) == (mentioned, message, MENTION)
    assert not Notification.objects.filter(user=bystander).exists()


@pytest.mark.django_db(transaction=True)
def test_a_message_deleted_before_the_worker_runs_notifies_nobody(room, author):
    mentioned = member_of(room)
    message = message_post(room=room, author=author, body=f"@{mentioned.username} oops")
    message_delete(room=room, user=author, message_id=message.pk)
    run_worker()
    assert not Notification.objects.exists()


# --- the room menu's control ------------------------------------------------------------------


def test_the_room_menu_shows_the_level_that_applies(room, member):
    page = logged_in(member).get(room.get_absolute_url()).content.decode()
    assert 'id="room-level"' in page
    assert 'value="mentions" checked' in page and 'value="all" checked' not in page


def test_choosing_a_level_saves_it_with_htmx_or_a_plain_form(room, member):
    client = logged_in(member)
    url = reverse("room_notifications", args=[room.slug])
    response = client.post(url, {"level": "all"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Saved." in response.content.decode()
    assert 'value="all" checked' in response.content.decode()
    assert RoomLevel.objects.get(user=member, room=room).level == Level.ALL
    response = client.post(url, {"level": "nothing"})
    assert response.status_code == 303 and response["Location"] == room.get_absolute_url()
    assert room_level_of(user=member, room=room) == Level.NOTHING
    assert 'value="nothing" checked' in client.get(url).content.decode()  # its own page


def test_a_level_is_for_members_only_and_must_be_one_of_the_three(room, member):
    url = reverse("room_notifications", args=[room.slug])
    assert logged_in(member).post(url, {"level": "loud"}).status_code == 400
    assert logged_in(UserFactory()).post(url, {"level": "all"}).status_code == 403  # a reader
    private = RoomFactory(is_private=True, kind="private")
    private_url = reverse("room_notifications", args=[private.slug])
    assert logged_in(member).post(private_url, {"level": "all"}).status_code == 404
    assert Client().post(url, {"level": "all"}).status_code == 302  # to the login page
    assert not RoomLevel.objects.exists()


# --- the page's notice (a desktop notification, decided by js/notify.js) ---------------------


@pytest.mark.django_db
def test_the_level_answers_as_json_for_the_pages_script(room, member):
    room_level_set(user=member, room=room, level=Level.ALL)
    url = reverse("room_notifications", args=[room.slug])
    assert logged_in(member).get(url, {"format": "json"}).json() == {"level": "all"}


@live
async def test_a_mention_elsewhere_sends_the_mentioned_member_a_notice_and_nobody_else():
    shown, elsewhere = await sync_to_async(RoomFactory)(), await sync_to_async(RoomFactory)()
    hostile = await sync_to_async(UserFactory)(display_name="<b>Mod</b>")
    author = await make_member(elsewhere, role="moderator", user=hostile)
    alice = await make_member(elsewhere)
    bob = await make_member(elsewhere)
    for user in (alice, bob):
        await sync_to_async(MembershipFactory)(room=shown, user=user)
    alice_socket, bob_socket = await open_socket(shown.slug, alice), await open_socket(shown.slug, bob)

    body = f"@{alice.username} <script>x</script> look at this"
    message = await sync_to_async(message_post)(room=elsewhere, author=author, body=body)
    notice = (await receive_until(alice_socket, 'id="page-notice"'))[-1]
    assert f'data-message="{message.pk}"' in notice and f'data-mentioned="{alice.pk}"' in notice
    assert f'data-title="&lt;b&gt;Mod&lt;/b&gt; in #{elsewhere.name}"' in notice
    assert "&lt;script&gt;x&lt;/script&gt;" in notice and "<script>" not in notice
    assert f'data-url="/rooms/{elsewhere.slug}/?around={message.pk}#message-{message.pk}"' in notice
    frames = await receive_until(bob_socket, f'id="room-link-{elsewhere.slug}"')  # his badge, no notice
    await sync_to_async(message_post)(room=elsewhere, author=author, body="a plain one")
    frames += await receive_until(bob_socket, 'data-unread="2"')
    assert not [frame for frame in frames if "page-notice" in frame]
    await alice_socket.disconnect()
    await bob_socket.disconnect()


@live
async def test_a_direct_message_sends_a_notice_to_the_home_page_socket():
    alice, bob = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    direct = await sync_to_async(direct_conversation_open)(user=alice, others=[bob])
    home = WebsocketCommunicator(application, "/ws/home/", headers=[ORIGIN, await session_cookie(bob)])
    assert (await home.connect(timeout=10))[0]
    await sync_to_async(message_post)(room=direct, author=alice, body="dinner?")
    notice = (await receive_until(home, 'id="page-notice"'))[-1]
    assert "data-direct" in notice and f'data-title="{alice.username}"' in notice
    assert 'data-body="dinner?"' in notice
    await home.disconnect()


# --- the settings page ------------------------------------------------------------------------

SETTINGS_URL = "/accounts/notifications/"


def test_the_settings_page_shows_the_defaults_in_force_and_the_user_menu_links_it(member):
    page = logged_in(member).get(SETTINGS_URL).content.decode()
    assert re.search(r'name="room_level" value="mentions"[^>]*checked', page)
    assert re.search(r'name="direct_level" value="all"[^>]*checked', page)
    assert re.search(r'name="email_enabled"[^>]*checked', page)
    assert f'href="{SETTINGS_URL}"' in logged_in(member).get("/").content.decode()


def test_saving_the_defaults_applies_them_to_rooms_without_a_choice(room, member):
    client = logged_in(member)
    response = client.post(SETTINGS_URL, {"room_level": "all", "direct_level": "mentions"})
    assert response.status_code == 303
    preferences = Preferences.objects.get(user=member)
    assert (preferences.room_level, preferences.direct_level, preferences.email_enabled) == (
        "all",
        "mentions",
        False,  # an unticked box
    )
    assert room_level_of(user=member, room=room) == Level.ALL
    refused = client.post(SETTINGS_URL, {"room_level": "loud", "direct_level": "all"})
    assert refused.status_code == 400 and "Select a valid choice" in refused.content.decode()
    assert Preferences.objects.get(user=member).room_level == "all"


def test_do_not_disturb_for_a_while_until_tomorrow_morning_or_ended(member):
    client = logged_in(member)
    before = timezone.now()
    assert client.post("/accounts/notifications/quiet/", {"duration": "60"}).status_code == 303
    until = Preferences.objects.get(user=member).do_not_disturb_until
    assert timedelta(minutes=59) < until - before < timedelta(minutes=61)
    assert Preferences.objects.get(user=member).is_quiet()
    assert "No push or email until" in client.get(SETTINGS_URL).content.decode()
    client.post("/accounts/notifications/quiet/", {"end": "1"})
    assert not Preferences.objects.get(user=member).is_quiet()
    assert client.post("/accounts/notifications/quiet/", {"duration": "forever"}).status_code == 400


def test_tomorrow_morning_is_eight_in_the_persons_time_zone(member):
    member.time_zone = "Asia/Tokyo"
    late_evening = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)  # 23:00 in Tokyo
    until = quiet_until("tomorrow", user=member, now=late_evening)
    assert until == datetime(2026, 12, 8, 8, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo"))


def test_a_device_can_be_removed_by_its_owner_only(member):
    mine = PushSubscription.objects.create(
        user=member, endpoint="https://push.example/1", p256dh="k", auth="a"
    )
    theirs = PushSubscription.objects.create(
        user=UserFactory(), endpoint="https://push.example/2", p256dh="k", auth="a", device="Firefox on Linux"
    )
    client = logged_in(member)
    page = client.get(SETTINGS_URL).content.decode()
    assert "A browser" in page and "Firefox on Linux" not in page
    assert client.post(f"/accounts/notifications/devices/{theirs.pk}/remove/").status_code == 404
    assert client.post(f"/accounts/notifications/devices/{mine.pk}/remove/").status_code == 303
    assert list(PushSubscription.objects.all()) == [theirs]
