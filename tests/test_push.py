"""Web Push (issue 15, point 3): subscriptions per device through the views, the
background worker pushing encrypted, VAPID-signed notifications to a real push
service on loopback (tests/push_server.py), what it does with the service's answers,
and who is never pushed (do not disturb, reading the room now)."""

import asyncio
import json
import logging
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from messages_app.models import Message
from messages_app.services import message_post
from notifications.models import Notification, Preferences, PushSubscription
from notifications.push import PushSession, Refused, push_payload, vapid_keys_generate, vapid_keys_valid
from notifications.tasks import push_send
from rooms.presence.stores import presence_enter, presence_leave, presence_store
from rooms.services import direct_conversation_open
from tests.background import run_worker
from tests.clients import logged_in
from tests.factories import MembershipFactory, RoomFactory, UserFactory
from tests.push_server import PushServer, browser_keys
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db

SUBSCRIPTIONS = "/push/subscriptions/"


@pytest.fixture
def vapid(settings):
    keys = vapid_keys_generate()
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = keys["public_key"], keys["private_key"]
    settings.VAPID_SUBJECT = "mailto:push-test@example.com"
    return keys


@pytest.fixture
def push_server():
    server = PushServer().start()
    yield server
    server.stop()
    assert server.failures == []  # every push was signed and encrypted as it must be


def subscribe(client, subscription):
    return client.post(SUBSCRIPTIONS, json.dumps(subscription), content_type="application/json")


def unsubscribe(client, subscription):
    return client.delete(SUBSCRIPTIONS, json.dumps(subscription), content_type="application/json")


@pytest.fixture
def alice(room):
    return MembershipFactory(room=room, user=UserFactory(username="alice", display_name="Alice")).user


@pytest.fixture
def bob(room):
    return MembershipFactory(room=room, user=UserFactory(username="bob")).user


@pytest.fixture
def bobs_phone(bob, vapid, push_server):
    """Bob's browser, subscribed through the view."""
    subscription = push_server.device()
    assert subscribe(logged_in(bob), subscription).status_code == 201
    return subscription


def push_tasks(status=TaskResultStatus.READY):
    return DBTaskResult.objects.filter(task_path=push_send.module_path, status=status)


# --- subscribing ---------------------------------------------------------------------------------


def test_the_key_endpoint_gives_the_public_key_or_says_push_is_off(client, vapid, settings):
    assert client.get("/push/key/").json() == {"public_key": vapid["public_key"]}
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    assert client.get("/push/key/").json() == {"public_key": None}


def test_a_device_subscribes_renews_and_unsubscribes(bob, vapid, push_server):
    client, subscription = logged_in(bob), push_server.device()
    client.defaults["HTTP_USER_AGENT"] = (
        "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
    )
    response = subscribe(client, subscription)
    assert response.status_code == 201 and response.json() == {"device": "Firefox on Linux"}
    saved = PushSubscription.objects.get()
    assert (saved.user, saved.endpoint, saved.p256dh, saved.auth) == (
        bob,
        subscription["endpoint"],
        subscription["keys"]["p256dh"],
        subscription["keys"]["auth"],
    )
    # The same browser, now logged in as someone else, with new keys: one row, theirs.
    carol, renewed = UserFactory(), {**subscription, "keys": push_server.device()["keys"]}
    assert subscribe(logged_in(carol), renewed).status_code == 201
    saved = PushSubscription.objects.get()
    assert (saved.user, saved.p256dh) == (carol, renewed["keys"]["p256dh"])
    assert unsubscribe(logged_in(carol), {"endpoint": subscription["endpoint"]}).status_code == 204
    assert not PushSubscription.objects.exists()


def test_unsubscribing_removes_only_the_callers_own_subscription(bob, bobs_phone):
    mallory = logged_in(UserFactory())
    assert unsubscribe(mallory, bobs_phone).status_code == 204
    assert PushSubscription.objects.get().user == bob


def test_anonymous_visitors_and_other_methods_are_refused(client, vapid, push_server):
    subscription = push_server.device()
    assert subscribe(client, subscription).status_code == 403
    assert unsubscribe(client, subscription).status_code == 403
    assert client.get(SUBSCRIPTIONS).status_code == 405
    assert not PushSubscription.objects.exists()


def malformed_bodies(subscription):
    keys = subscription["keys"]
    return {
        "not json": "{endpoint",
        "not an object": "[1, 2]",
        "no endpoint": json.dumps({"keys": keys}),
        "endpoint not a string": json.dumps({"endpoint": 42, "keys": keys}),
        "no keys": json.dumps({"endpoint": subscription["endpoint"]}),
        "short p256dh": json.dumps({**subscription, "keys": {**keys, "p256dh": keys["p256dh"][:40]}}),
        "p256dh not base64url": json.dumps({**subscription, "keys": {**keys, "p256dh": "!" * 87}}),
        "long auth": json.dumps({**subscription, "keys": {**keys, "auth": keys["p256dh"]}}),
        "auth not a string": json.dumps({**subscription, "keys": {**keys, "auth": ["x"]}}),
        "not utf-8": b"\xff\xfe{}",
    }


def test_malformed_subscriptions_are_refused_with_400_json(bob, vapid, push_server):
    client = logged_in(bob)
    answers = {
        name: client.post(SUBSCRIPTIONS, body, content_type="application/json")
        for name, body in malformed_bodies(push_server.device()).items()
    }
    assert {name: response.status_code for name, response in answers.items()} == dict.fromkeys(answers, 400)
    assert all(response.json()["detail"] for response in answers.values())
    too_large = client.post(SUBSCRIPTIONS, "x" * 5000, content_type="application/json")
    assert too_large.status_code == 413
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    ("endpoint", "insecure", "detail"),
    [
        ("http://push.example.com/send/1", False, "https"),
        ("https://127.0.0.1/send/1", False, "public internet"),
        ("https://localhost/send/1", False, "public internet"),
        ("https://10.1.2.3/send/1", False, "public internet"),
        ("https://192.168.0.10/send/1", False, "public internet"),
        ("https://[::1]/send/1", False, "public internet"),
        ("https://[::ffff:10.0.0.1]/send/1", False, "public internet"),
        ("https://169.254.169.254/latest/meta-data", False, "public internet"),
        ("https://user:secret@8.8.8.8/send/1", False, "credentials"),
        ("https://no-such-host.invalid/send/1", False, "does not resolve"),
        ("ftp://8.8.8.8/send/1", False, "https"),
        ("http://10.1.2.3/send/1", True, "public internet"),  # insecure: loopback only
        ("http://8.8.8.8/send/1", True, "https"),
    ],
)
def test_endpoints_the_server_must_not_post_to_are_refused(bob, vapid, settings, endpoint, insecure, detail):
    settings.PUSH_ALLOW_INSECURE = insecure
    subscription = {"endpoint": endpoint, "keys": browser_keys()}
    response = subscribe(logged_in(bob), subscription)
    assert response.status_code == 400 and detail in response.json()["detail"]
    assert not PushSubscription.objects.exists()


def test_the_tests_loopback_endpoint_needs_push_allow_insecure(bob, vapid, push_server, settings):
    settings.PUSH_ALLOW_INSECURE = False
    assert subscribe(logged_in(bob), push_server.device()).status_code == 400
    settings.PUSH_ALLOW_INSECURE = True
    assert subscribe(logged_in(bob), push_server.device()).status_code == 201


def test_subscribing_needs_the_csrf_token_the_script_sends(bob, vapid, push_server):
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)
    page = client.get(bob.memberships.get().room.get_absolute_url()).content.decode()
    token = json.loads(page.split("hx-headers='", 1)[1].split("'", 1)[0])["X-CSRFToken"]
    body = json.dumps(push_server.device())
    assert client.post(SUBSCRIPTIONS, body, content_type="application/json").status_code == 403
    answer = client.post(SUBSCRIPTIONS, body, content_type="application/json", headers={"X-CSRFToken": token})
    assert answer.status_code == 201


# --- pushing ---------------------------------------------------------------------------------------


def mention(room, author, user, text="can you look at the release notes?"):
    return message_post(room=room, author=author, body=f"@{user.username} {text}")


@pytest.mark.django_db(transaction=True)
def test_a_mention_is_pushed_by_the_worker_encrypted_and_vapid_signed(
    room, alice, bob, bobs_phone, push_server, vapid
):
    message = mention(room, alice, bob)
    # Nothing on the message path (the request or the socket): only the worker pushes.
    assert push_server.received() == [] and not push_tasks().exists()
    run_worker()
    (delivery,) = push_server.received(bobs_phone)
    assert delivery.payload == {
        "title": f"Alice in {room.name}",
        "body": "@bob can you look at the release notes?",
        "url": f"/rooms/{room.slug}/?around={message.pk}#message-{message.pk}",
        "tag": f"message-{message.pk}",
    }
    assert delivery.vapid_key == vapid["public_key"]
    landing = logged_in(bob).get(delivery.payload["url"])  # where a click on it leads
    assert landing.status_code == 200 and f'id="message-{message.pk}"' in landing.content.decode()
    assert delivery.claims["sub"] == "mailto:push-test@example.com"
    assert int(delivery.ttl) > 0
    notification = Notification.objects.get(user=bob)
    assert notification.pushed_at is not None
    assert PushSubscription.objects.get().last_used_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_direct_message_is_titled_with_its_sender_and_previewed_short(alice, bob, vapid, push_server):
    direct = direct_conversation_open(user=alice, others=[bob])
    phone = push_server.device()
    subscribe(logged_in(bob), phone)
    message_post(room=direct, author=alice, body="lunch? " + "very " * 60 + "long")
    run_worker()
    (delivery,) = push_server.received(phone)
    assert delivery.payload["title"] == "Alice"
    assert len(delivery.payload["body"]) <= 120 and delivery.payload["body"].startswith("lunch? very")
    assert delivery.payload["body"].endswith("…")


def test_a_message_of_files_only_is_previewed_by_their_names(room, alice):
    message = Message(room=room, author=alice, body="", parts_text="plan.pdf\nphoto.jpg", pk=7)
    assert push_payload(message)["body"] == "plan.pdf, photo.jpg"


@pytest.mark.django_db(transaction=True)
def test_every_device_of_the_person_is_pushed_once(room, alice, bob, bobs_phone, push_server):
    laptop = push_server.device()
    subscribe(logged_in(bob), laptop)
    mention(room, alice, bob)
    run_worker()
    assert len(push_server.received(bobs_phone)) == len(push_server.received(laptop)) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_forgot_is_removed(room, alice, bob, bobs_phone, push_server, status):
    push_server.answer(bobs_phone, status)
    mention(room, alice, bob)
    run_worker()
    assert [delivery.status for delivery in push_server.received()] == [status]
    assert not PushSubscription.objects.exists()
    assert not push_tasks().exists()  # not retried
    assert Notification.objects.get(user=bob).pushed_at is None


def run_due_retries():
    """The waiting retries, due now, then the worker."""
    waiting = push_tasks()
    assert all(task.run_after > timezone.now() for task in waiting)
    waiting.update(run_after=timezone.now())
    run_worker()


@pytest.mark.django_db(transaction=True)
def test_a_failing_push_service_is_tried_again_later(room, alice, bob, bobs_phone, push_server):
    push_server.answer(bobs_phone, 500, 503)
    mention(room, alice, bob)
    run_worker()
    (retry,) = push_tasks()
    assert timedelta(seconds=20) < retry.run_after - timezone.now() <= timedelta(seconds=30)
    assert Notification.objects.get(user=bob).pushed_at is None
    run_due_retries()
    (retry,) = push_tasks()
    assert timedelta(seconds=100) < retry.run_after - timezone.now() <= timedelta(minutes=2)  # waits longer
    run_due_retries()
    assert [delivery.status for delivery in push_server.received()] == [500, 503, 201]
    assert {delivery.payload["tag"] for delivery in push_server.received()} == {
        f"message-{Notification.objects.get().message_id}"
    }
    assert not push_tasks().exists()
    assert Notification.objects.get(user=bob).pushed_at is not None
    assert PushSubscription.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_after_five_failed_tries_the_push_is_given_up_with_a_warning(
    room, alice, bob, bobs_phone, push_server, caplog
):
    push_server.answer(bobs_phone, *[500] * 6)
    mention(room, alice, bob)
    run_worker()
    for _ in range(4):
        run_due_retries()
    assert len(push_server.received()) == 5
    assert not push_tasks().exists()
    assert PushSubscription.objects.exists()  # the device may be back tomorrow
    given_up = [record for record in caplog.records if "push given up" in record.getMessage()]
    assert [(record.levelno, record.exc_info) for record in given_up] == [(logging.WARNING, None)]
    assert not [record for record in caplog.records if record.exc_info]


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_push_service_is_tried_again_later(room, alice, bob, vapid, push_server):
    phone = push_server.device()
    subscribe(logged_in(bob), phone)
    gone = PushServer().start()
    gone.stop()  # a port nobody listens on any more
    PushSubscription.objects.update(endpoint=f"{gone.origin}/push/x")
    mention(room, alice, bob)
    run_worker()
    assert push_tasks().count() == 1
    PushSubscription.objects.update(endpoint=phone["endpoint"])
    run_due_retries()
    assert len(push_server.received(phone)) == 1


@pytest.mark.django_db(transaction=True)
def test_an_endpoint_is_checked_again_before_each_send(room, alice, bob, bobs_phone, push_server, settings):
    settings.PUSH_ALLOW_INSECURE = False  # as if the host now resolved to a private address
    mention(room, alice, bob)
    run_worker()
    assert push_server.received() == []
    assert not push_tasks().exists()


@pytest.mark.django_db(transaction=True)
def test_do_not_disturb_silences_push(room, alice, bob, bobs_phone, push_server):
    Preferences.objects.create(user=bob, do_not_disturb_until=timezone.now() + timedelta(hours=1))
    mention(room, alice, bob)
    run_worker()
    assert push_server.received() == []
    assert Notification.objects.filter(user=bob).exists()  # the page still shows it
    Preferences.objects.filter(user=bob).update(do_not_disturb_until=timezone.now() - timedelta(minutes=1))
    mention(room, alice, bob, "and now?")
    run_worker()
    assert len(push_server.received()) == 1


async def enter_and_close(room, user, channel):
    await presence_enter(room_id=room.pk, user_id=user.pk, channel_name=channel)
    await presence_store().aclose()


async def leave_and_close(room, user, channel):
    await presence_leave(room_id=room.pk, user_id=user.pk, channel_name=channel)
    await presence_store().aclose()


@pytest.mark.django_db(transaction=True)
def test_nothing_is_pushed_to_someone_reading_the_room_now(room, alice, bob, bobs_phone, push_server):
    other_room = RoomFactory()
    MembershipFactory(room=other_room, user=alice)
    MembershipFactory(room=other_room, user=bob)
    channel = f"specific.push-test!{bob.pk}"
    asyncio.run(enter_and_close(room, bob, channel))
    try:
        mention(room, alice, bob)
        mention(other_room, alice, bob, "over here")  # a room bob does not have open
        run_worker()
    finally:
        asyncio.run(leave_and_close(room, bob, channel))
    (delivery,) = push_server.received()
    assert delivery.payload["title"] == f"Alice in {other_room.name}"


@pytest.mark.django_db(transaction=True)
def test_without_vapid_keys_push_is_off_and_nothing_breaks(
    room, alice, bob, bobs_phone, push_server, settings
):
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    mention(room, alice, bob)
    run_worker()
    assert push_server.received() == [] and not push_tasks().exists()
    assert Notification.objects.filter(user=bob).exists()
    assert not DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).exists()


# --- keys, service worker, page ------------------------------------------------------------------


def test_vapid_keys_writes_a_valid_pair_and_if_missing_keeps_it(settings, tmp_path):
    settings.VAPID_KEYS_FILE = tmp_path / "var" / "vapid.json"
    call_command("vapid_keys", stdout=StringIO())
    first = json.loads(settings.VAPID_KEYS_FILE.read_text())
    assert vapid_keys_valid(first)
    assert settings.VAPID_KEYS_FILE.stat().st_mode & 0o077 == 0  # the private key is the owner's only
    call_command("vapid_keys", "--if-missing", stdout=StringIO())
    assert json.loads(settings.VAPID_KEYS_FILE.read_text()) == first
    call_command("vapid_keys", stdout=StringIO())
    second = json.loads(settings.VAPID_KEYS_FILE.read_text())
    assert vapid_keys_valid(second) and second != first
    settings.VAPID_KEYS_FILE.write_text("not json")
    call_command("vapid_keys", "--if-missing", stdout=StringIO())
    assert vapid_keys_valid(json.loads(settings.VAPID_KEYS_FILE.read_text()))


def test_development_reads_the_key_file_and_production_refuses_insecure_push(tmp_path):
    keys_file = tmp_path / "vapid.json"
    keys = vapid_keys_generate()
    keys_file.write_text(json.dumps(keys))
    code = "from django.conf import settings; print(settings.VAPID_PUBLIC_KEY)"
    result = run_manage("shell", "-c", code, env={"DEBUG": "1", "VAPID_KEYS_FILE": str(keys_file)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == keys["public_key"]
    production = {"DEBUG": "0", "SECRET_KEY": "x" * 50, "PUSH_ALLOW_INSECURE": "1"}
    result = run_manage("check", env=production)
    assert result.returncode != 0 and "PUSH_ALLOW_INSECURE" in result.stderr


def test_the_service_worker_is_served_from_the_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert response["Cache-Control"] == "no-cache"
    script = response.content.decode()
    assert 'addEventListener("push"' in script and 'addEventListener("notificationclick"' in script
    assert "favicon" in script and "showNotification" in script


def test_members_find_the_device_switch_in_the_room_menu_and_the_settings_page(room, bob):
    client = logged_in(bob)
    room_page = client.get(room.get_absolute_url()).content.decode()
    settings_page = client.get(f"/rooms/{room.slug}/notifications/").content.decode()
    for page in (room_page, settings_page):
        assert "data-push-control" in page and 'data-key-url="/push/key/"' in page
        assert "js/push.js" in page


def test_the_push_client_refuses_a_private_address_at_connection_time(push_server, settings):
    settings.PUSH_ALLOW_INSECURE = False  # so 127.0.0.1 counts as private
    with PushSession() as session, pytest.raises(Refused):
        session.post(f"{push_server.origin}/push/anything", data=b"")
    assert push_server.received() == []


@pytest.mark.django_db(transaction=True)
def test_a_host_that_resolves_to_a_private_address_after_the_check_gets_nothing(
    room, alice, bob, bobs_phone, push_server, settings, monkeypatch
):
    # DNS rebinding: the name looked public when checked, and points inside when connected to.
    monkeypatch.setattr("notifications.push.endpoint_check", lambda endpoint: None)
    settings.PUSH_ALLOW_INSECURE = False
    mention(room, alice, bob)
    run_worker()
    assert push_server.received() == []
    assert not push_tasks().exists()  # not retried either


def test_a_redirect_from_the_push_service_is_not_followed(push_server):
    with PushSession() as session:
        response = session.post(f"{push_server.origin}/redirect", data=b"")
    assert response.status_code == 307 and push_server.received() == []


@pytest.mark.django_db(transaction=True)
def test_a_retry_is_not_sent_once_the_device_belongs_to_someone_else_or_is_quiet(
    room, alice, bob, bobs_phone, push_server
):
    push_server.answer(bobs_phone, 500)
    mention(room, alice, bob)
    run_worker()
    carol = UserFactory()
    subscribe(logged_in(carol), bobs_phone)  # carol logs in on bob's browser and turns push on
    run_due_retries()  # bob's mention never reaches carol
    assert [delivery.status for delivery in push_server.received()] == [500]
    assert not push_tasks().exists()

    subscribe(logged_in(bob), bobs_phone)
    push_server.answer(bobs_phone, 500)
    mention(room, alice, bob, "again")
    run_worker()
    Preferences.objects.create(user=bob, do_not_disturb_until=timezone.now() + timedelta(hours=1))
    run_due_retries()
    assert [delivery.status for delivery in push_server.received()] == [500, 500]
