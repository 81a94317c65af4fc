"""Email (issue 15 points 4, 5, 6 and 7): the digest of mentions and direct messages
still unread after NOTIFY_EMAIL_AFTER, one mail per person per pass, grouped by room;
RFC 8058's one-click unsubscribe; the periodic pass in the worker; the invitation
email. Every mail goes through a real SMTP server on loopback (tests/smtp_server.py)
and is read back with the email package."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from config import schedule
from messages_app.services import message_post
from notifications import digest
from notifications.digest import DIGEST_EVERY, digest_send
from notifications.emails import unsubscribe_token
from notifications.models import Notification, Preferences
from notifications.tasks import email_digest_send, invitation_email
from rooms.models import Membership
from rooms.services import direct_conversation_open, room_invite
from rooms.signals import member_invited
from tests.background import run_worker
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db

Reason = Notification.Reason
WINDOW = timedelta(seconds=900)
LATE = timedelta(minutes=20)  # older than the window (the default, 900 s)


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = "https://chat.example.com"
    settings.NOTIFY_EMAIL_AFTER = int(WINDOW.total_seconds())


def member(room, **kwargs):
    return MembershipFactory(room=room, **kwargs).user


def notification_for(user, room, *, reason=Reason.MENTION, age=LATE, body="are you there?", author=None):
    """A notification made `age` ago, for a message in the room the user has not read."""
    author = author or member(room)
    message = MessageFactory(room=room, author=author, body=body)
    return Notification.objects.create(
        user=user, message=message, room=room, reason=reason, created_at=timezone.now() - age
    )


def read_up_to(user, room, message):
    Membership.objects.filter(user=user, room=room).update(last_read_message_id=message.pk)


def parts(mail):
    """(plain text, HTML) of a received multipart/alternative mail."""
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = mail.get_body(preferencelist=("html",)).get_content()
    return text, html


def unsubscribe_path(mail):
    header = "".join(str(mail["List-Unsubscribe"]).split())  # a long header may be folded
    match = re.fullmatch(r"<https://chat\.example\.com(/notifications/unsubscribe/[^/>]+/)>", header)
    assert match, header
    return match.group(1)


# --- the digest pass --------------------------------------------------------------------------


def test_a_mention_unread_after_the_window_is_mailed_once(smtp):
    room = RoomFactory(name="Deploys")
    ann = member(room)
    notification = notification_for(ann, room, body="@ann the release is blocked")

    assert digest_send() == 1
    assert digest_send() == 0  # the second pass finds it settled

    ((recipients, mail),) = smtp.mails()
    assert recipients == [ann.email] and mail["To"] == ann.email
    assert mail["Subject"] == "1 new mention in Chat"
    text, html = parts(mail)
    message_id = notification.message_id
    link = f"https://chat.example.com/rooms/{room.slug}/?around={message_id}#message-{message_id}"
    assert link in text and link.replace("&", "&amp;") in html
    assert "@ann the release is blocked" in text and "Deploys" in text
    assert notification.message.author.username in text
    notification.refresh_from_db()
    assert notification.emailed_at is not None


def test_three_notifications_in_two_rooms_make_one_mail_with_both_rooms(smtp):
    deploys, design = RoomFactory(name="Deploys"), RoomFactory(name="Design")
    ann = member(deploys)
    MembershipFactory(room=design, user=ann)
    friend = UserFactory()
    direct = direct_conversation_open(user=friend, others=[ann])
    notification_for(ann, deploys, body="first in deploys")
    notification_for(ann, design, body="one in design")
    notification_for(ann, direct, reason=Reason.DIRECT, body="psst", author=friend)

    assert digest_send() == 1
    ((_, mail),) = smtp.mails()
    assert mail["Subject"] == "3 new mentions and direct messages in Chat"
    text, html = parts(mail)
    for room in (deploys, design, direct):
        assert f"https://chat.example.com/rooms/{room.slug}/\n" in text
        assert f'href="https://chat.example.com/rooms/{room.slug}/"' in html
    assert text.index("first in deploys") < text.index("one in design") < text.index("psst")
    assert "3 messages for you are still unread" in text


def test_a_message_read_before_the_window_is_never_mailed(smtp):
    room = RoomFactory()
    ann = member(room)
    notification = notification_for(ann, room)
    read_up_to(ann, room, notification.message)
    assert digest_send() == 0 and smtp.mails() == []
    # Settled, not reconsidered by every later pass (even if the room became unread again).
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    Membership.objects.filter(user=ann, room=room).update(last_read_message_id=None)
    assert digest_send() == 0 and smtp.mails() == []


def test_a_later_message_read_counts_as_read_and_an_earlier_one_does_not(smtp):
    room = RoomFactory()
    ann = member(room)
    older = notification_for(ann, room, body="older")
    notification_for(ann, room, body="newer")
    read_up_to(ann, room, older.message)
    assert digest_send() == 1
    text, _ = parts(smtp.mails()[0][1])
    assert "newer" in text and "older" not in text


def test_a_notification_younger_than_the_window_waits(smtp):
    room = RoomFactory()
    ann = member(room)
    notification_for(ann, room, age=WINDOW - timedelta(seconds=30))
    assert digest_send() == 0 and smtp.mails() == []
    assert digest_send(now=timezone.now() + timedelta(seconds=60)) == 1
    assert len(smtp.mails()) == 1


def test_the_window_is_the_setting(smtp, settings):
    settings.NOTIFY_EMAIL_AFTER = 60
    room = RoomFactory()
    notification_for(member(room), room, age=timedelta(seconds=90))
    assert digest_send() == 1


@pytest.mark.parametrize(
    "preferences",
    [
        {"email_enabled": False},
        {"do_not_disturb_until": timezone.now() + timedelta(days=365)},
    ],
    ids=["email-off", "do-not-disturb"],
)
def test_email_off_or_do_not_disturb_sends_nothing(smtp, preferences):
    room = RoomFactory()
    ann = member(room)
    Preferences.objects.create(user=ann, **preferences)
    notification = notification_for(ann, room)
    assert digest_send() == 0 and smtp.mails() == []
    notification.refresh_from_db()
    assert notification.emailed_at is not None  # quiet hours do not pile up a mail for later


def test_do_not_disturb_that_ended_lets_the_mail_go(smtp):
    room = RoomFactory()
    ann = member(room)
    Preferences.objects.create(user=ann, do_not_disturb_until=timezone.now() - timedelta(minutes=1))
    notification_for(ann, room)
    assert digest_send() == 1


def test_two_people_get_a_mail_each_with_only_their_own_messages(smtp):
    room = RoomFactory()
    ann, bob = member(room), member(room)
    notification_for(ann, room, body="for ann")
    notification_for(bob, room, body="for bob")
    assert digest_send() == 2
    mails = {tuple(recipients): mail for recipients, mail in smtp.mails()}
    assert set(mails) == {(ann.email,), (bob.email,)}
    ann_text, _ = parts(mails[(ann.email,)])
    assert "for ann" in ann_text and "for bob" not in ann_text
    assert unsubscribe_path(mails[(ann.email,)]) != unsubscribe_path(mails[(bob.email,)])


def test_plain_messages_deleted_messages_and_people_no_longer_members_are_not_mailed(smtp):
    room = RoomFactory()
    follower, deleted_for, banned, gone = member(room), member(room), member(room), member(room)
    notification_for(follower, room, reason=Reason.MESSAGE)  # level "all": pushed, never emailed
    deleted = notification_for(deleted_for, room)
    deleted.message.deleted_at = timezone.now()
    deleted.message.save()
    notification_for(banned, room)
    Membership.objects.filter(user=banned).update(banned_at=timezone.now())
    notification_for(gone, room)
    Membership.objects.filter(user=gone).delete()
    assert digest_send() == 0 and smtp.mails() == []
    assert Notification.objects.filter(reason=Reason.MESSAGE, emailed_at=None).count() == 1


def test_the_address_is_the_primary_or_a_verified_one(smtp):
    room = RoomFactory()
    ann, unverified = member(room), member(room)
    EmailAddress.objects.create(user=ann, email="old@example.com", primary=False, verified=True)
    EmailAddress.objects.create(user=ann, email="ann.primary@example.com", primary=True, verified=True)
    EmailAddress.objects.create(user=unverified, email="typo@example.con", primary=False, verified=False)
    notification_for(ann, room)
    notification_for(unverified, room)
    assert digest_send() == 1
    ((recipients, _),) = smtp.mails()
    assert recipients == ["ann.primary@example.com"]


def test_the_pass_costs_the_same_queries_for_many_notifications(smtp, django_assert_max_num_queries):
    rooms = [RoomFactory() for _ in range(3)]
    people = [member(rooms[0]) for _ in range(4)]
    for person in people:
        for room in rooms[1:]:
            MembershipFactory(room=room, user=person)
    author = UserFactory()
    for room in rooms:
        MembershipFactory(room=room, user=author)
        for person in people:
            for _ in range(3):
                notification_for(person, room, author=author)
    # Claim, memberships, preferences, addresses, the update, and the transaction.
    with django_assert_max_num_queries(8):
        assert digest_send() == 4
    assert len(smtp.mails()) == 4


def test_one_person_is_never_split_across_rounds(smtp, monkeypatch):
    monkeypatch.setattr(digest, "CLAIM_LIMIT", 3)
    room = RoomFactory()
    ann, bob = member(room), member(room)
    for person in (ann, ann, bob, bob):
        notification_for(person, room)
    assert digest_send() == 2
    counts = sorted(parts(mail)[0].count("https://chat.example.com/rooms/") for _, mail in smtp.mails())
    assert counts == [3, 3]  # each: the room's link and two messages' links


@pytest.mark.django_db(transaction=True)
def test_notifications_another_worker_holds_are_skipped_not_sent_twice(smtp):
    room = RoomFactory()
    ann = member(room)
    notification_for(ann, room)
    claimed, release, done = threading.Event(), threading.Event(), {}

    def other_worker():
        try:
            with transaction.atomic():
                done["claimed"] = len(digest._claim(timezone.now()))
                claimed.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert claimed.wait(10) and done["claimed"] == 1
        assert digest_send() == 0  # locked by the other worker: skipped, not waited for
    finally:
        release.set()
        thread.join(10)
    assert smtp.mails() == []


def test_a_failed_send_leaves_the_notifications_for_the_next_pass(smtp, settings):
    room = RoomFactory()
    ann = member(room)
    notification = notification_for(ann, room)
    settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = "user", "pass"  # the server offers no AUTH
    assert digest_send() == 0
    notification.refresh_from_db()
    assert notification.emailed_at is None
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    assert digest_send() == 1


# --- the mail ---------------------------------------------------------------------------------


def test_the_mail_has_text_and_html_parts_and_one_click_unsubscribe_headers(smtp, settings):
    settings.DEFAULT_FROM_EMAIL = "Chat <chat@example.com>"
    room = RoomFactory()
    ann = member(room)
    notification_for(ann, room)
    digest_send()
    ((_, mail),) = smtp.mails()
    assert mail["From"] == "Chat <chat@example.com>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = unsubscribe_path(mail)
    text, html = parts(mail)
    assert f"https://chat.example.com{path}" in text
    assert f'href="https://chat.example.com{path}"' in html
    assert "<html" in html and "<html" not in text


def test_hostile_message_text_and_room_names_are_escaped_in_the_html_part(smtp):
    room = RoomFactory(name='<img src=x onerror="alert(1)">')
    ann = member(room, user=UserFactory(display_name="<b>Ann</b>"))
    notification_for(ann, room, body="<script>alert('x')</script> & more")
    assert digest_send() == 1
    text, html = parts(smtp.mails()[0][1])
    assert "<script>" not in html and "<img" not in html and "<b>Ann" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html and "&amp; more" in html
    assert "<script>alert('x')</script> & more" in text  # plain text stays as written


def test_times_are_in_the_persons_time_zone(smtp):
    room = RoomFactory()
    ann = member(room, user=UserFactory(time_zone="Asia/Tokyo"))
    bob = member(room, user=UserFactory(time_zone="Not/A_Zone"))
    for person in (ann, bob):
        notification = notification_for(person, room)
        notification.message.created_at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
        notification.message.save()
    digest_send()
    texts = {recipients[0]: parts(mail)[0] for recipients, mail in smtp.mails()}
    assert "Mon 2 Mar, 08:30 JST" in texts[ann.email]
    assert "Sun 1 Mar, 23:30 UTC" in texts[bob.email]  # an unknown zone: UTC


# --- unsubscribe --------------------------------------------------------------------------------


def test_unsubscribe_get_only_asks_and_a_post_without_csrf_unsubscribes(smtp):
    room = RoomFactory()
    ann = member(room)
    notification_for(ann, room)
    digest_send()
    path = unsubscribe_path(smtp.mails()[0][1])
    mail_client = Client(enforce_csrf_checks=True)  # a mail client: no cookie, no CSRF token

    page = mail_client.get(path)
    assert page.status_code == 200 and b"Unsubscribe" in page.content and b'method="post"' in page.content
    assert not Preferences.objects.filter(user=ann).exists()  # link scanners change nothing

    done = mail_client.post(path, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and b"no more email" in done.content
    assert Preferences.objects.get(user=ann).email_enabled is False
    notification_for(ann, room)
    assert digest_send() == 0 and len(smtp.mails()) == 1


@pytest.mark.parametrize(
    "token",
    [
        "forged",
        "1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "signed-with-another-salt",
        "a-deleted-user",
    ],
)
def test_a_forged_or_stale_token_is_refused_and_changes_nothing(token):
    ann = UserFactory()
    if token == "signed-with-another-salt":
        from django.core import signing

        token = signing.dumps(ann.pk, salt="another.purpose")
    elif token == "a-deleted-user":
        token = unsubscribe_token(ann.pk + 1000)
    client = Client(enforce_csrf_checks=True)
    for method in (client.get, client.post):
        response = method(f"/notifications/unsubscribe/{token}/")
        assert response.status_code == 400 and b"not valid" in response.content
    tampered = unsubscribe_token(ann.pk)[:-2] + "xx"
    assert client.post(f"/notifications/unsubscribe/{tampered}/").status_code == 400
    assert not Preferences.objects.exists()


def test_email_turns_off_and_on_on_the_notification_settings_page():
    ann = UserFactory()
    client = Client()
    client.force_login(ann)
    page = client.get("/accounts/notifications/").content.decode()
    assert re.search(r'name="email_enabled"[^>]*checked', page)
    client.post("/accounts/notifications/", {"room_level": "mentions", "direct_level": "all"})
    assert Preferences.objects.get(user=ann).email_enabled is False
    client.post(
        "/accounts/notifications/", {"room_level": "mentions", "direct_level": "all", "email_enabled": "on"}
    )
    assert Preferences.objects.get(user=ann).email_enabled is True


def test_the_unsubscribed_page_says_where_email_turns_back_on():
    ann = UserFactory()
    page = Client().post(f"/notifications/unsubscribe/{unsubscribe_token(ann.pk)}/").content.decode()
    assert 'href="/accounts/notifications/"' in page
    assert Preferences.objects.get(user=ann).email_enabled is False


# --- the periodic pass in the worker -------------------------------------------------------------


def test_the_digest_pass_is_a_periodic_task_of_the_worker():
    assert schedule.PERIODIC[email_digest_send.module_path] == (email_digest_send, DIGEST_EVERY)


@pytest.mark.django_db(transaction=True)
def test_the_worker_mails_a_posted_mention_and_schedules_the_next_pass(smtp, settings):
    settings.NOTIFY_EMAIL_AFTER = 0
    room = RoomFactory(name="Ops")
    author, ann = member(room, role="moderator"), member(room)
    message = message_post(room=room, author=author, body=f"@{ann.username} the disk is full")
    run_worker()  # records the notification; the first digest pass may come before it
    waiting = DBTaskResult.objects.filter(
        task_path=email_digest_send.module_path, status=TaskResultStatus.READY
    )
    waiting.update(run_after=timezone.now())  # the next pass, due now rather than in a minute
    run_worker()

    ((recipients, mail),) = smtp.mails()
    assert recipients == [ann.email] and mail["Subject"] == "1 new mention in Chat"
    assert f"?around={message.pk}#message-{message.pk}" in parts(mail)[0]
    (next_pass,) = waiting
    assert abs(next_pass.run_after - (timezone.now() + DIGEST_EVERY)) < timedelta(seconds=30)


# --- the invitation email ------------------------------------------------------------------------


def test_room_invite_sends_member_invited_after_commit(django_capture_on_commit_callbacks):
    room = RoomFactory(name="Garden", is_private=True)
    owner = member(room, role="owner")
    bob = UserFactory(username="bob")
    heard = []

    def receiver(sender, membership, **kwargs):
        heard.append(membership)

    member_invited.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            membership = room_invite(room=room, invited_by=owner, username="bob")
        assert heard == []  # nothing before the commit
        for callback in callbacks:
            callback()
    finally:
        member_invited.disconnect(receiver)
    assert heard == [membership] and membership.user == bob
    assert DBTaskResult.objects.filter(task_path=invitation_email.module_path).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_invitation_emails_the_invitee_through_the_worker(smtp):
    room = RoomFactory(name="Hidden <Garden>", topic="roses", is_private=True)
    owner = member(room, role="owner", user=UserFactory(username="olga", display_name="Olga"))
    bob = UserFactory(username="bob")
    room_invite(room=room, invited_by=owner, username="bob")
    run_worker()

    ((recipients, mail),) = smtp.mails()
    assert recipients == [bob.email]
    assert mail["Subject"] == "Olga invited you to Hidden <Garden> in Chat"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = parts(mail)
    room_url = f"https://chat.example.com/rooms/{room.slug}/"
    assert room_url in text and f'href="{room_url}"' in html
    assert "Olga (@olga)" in text and "Hidden <Garden>" in text and "roses" in text
    assert "Hidden &lt;Garden&gt;" in html and "<Garden>" not in html
    assert owner.pk != bob.pk


@pytest.mark.django_db(transaction=True)
def test_no_invitation_email_to_someone_who_unsubscribed_or_already_declined(smtp):
    room = RoomFactory(is_private=True)
    owner = member(room, role="owner")
    quiet = UserFactory(username="quiet")
    UserFactory(username="decliner")
    Preferences.objects.create(user=quiet, email_enabled=False)
    room_invite(room=room, invited_by=owner, username="quiet")
    membership = room_invite(room=room, invited_by=owner, username="decliner")
    Membership.objects.filter(pk=membership.pk).delete()  # declined before the worker came
    run_worker()
    assert smtp.mails() == []
    results = DBTaskResult.objects.filter(task_path=invitation_email.module_path, status="SUCCESSFUL")
    assert sorted(result.task_result.return_value for result in results) == [False, False]


# --- settings --------------------------------------------------------------------------------------


def test_email_settings_come_from_the_environment():
    code = (
        "from django.conf import settings as s;"
        "print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, s.NOTIFY_EMAIL_AFTER, s.SITE_URL)"
    )
    development = run_manage("shell", "-v", "0", "-c", code, env={"DEBUG": "1"})
    assert development.stdout.split() == [
        "django.core.mail.backends.console.EmailBackend",
        "localhost",
        "25",
        "900",
        "http://127.0.0.1:8000",
    ], development.stderr
    named = run_manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        env={"DEBUG": "1", "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": "2525", "NOTIFY_EMAIL_AFTER": "60"},
    )
    smtp_backend = "django.core.mail.backends.smtp.EmailBackend"
    assert named.stdout.split()[:4] == [smtp_backend, "127.0.0.1", "2525", "60"]
    production_env = {"DEBUG": "0", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "chat.example.com"}
    production = run_manage("shell", "-v", "0", "-c", code, env=production_env)
    assert production.stdout.split()[0] == "django.core.mail.backends.smtp.EmailBackend", production.stderr
    assert production.stdout.split()[-1] == "https://chat.example.com"
