"""Abuse, in one process: the per-user message rate limit (Redis, or memory without it),
the cap on sockets per user, allauth's login and sign-up limits in the shared cache,
and the signals that close the sockets of a login that ended. Across real server
processes: tests/test_abuse_cross_process.py."""

import asyncio
import logging
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.test import Client, override_settings

from messages_app.models import Message
from messages_app.ratelimit import MemorySendCounter, RedisSendCounter, send_counter
from messages_app.services import MessageRejected, message_post
from rooms.presence.stores import MemoryPresence, RedisPresence, presence_store, socket_claim
from tests.factories import PASSWORD, MembershipFactory, RoomFactory, UserFactory
from tests.sockets import (
    COMPOSER_CLEARED,
    joined_socket,
    live,
    make_member,
    open_socket,
    receive_all,
    receive_until,
)

PREFIX = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
UNREACHABLE_REDIS = "redis://127.0.0.1:9/0"  # port 9 (discard): nothing listens


def raw_redis():
    return redis.Redis.from_url(settings.REDIS_URL)


# --- the message rate limit -----------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(CHAT_RATE_LIMIT="3/1")
def test_rate_limit_says_slow_down_counts_in_redis_and_lets_through_after_the_window(room, member):
    for n in range(3):
        message_post(room=room, author=member, body=f"m{n}")

    with pytest.raises(MessageRejected) as refusal:
        message_post(room=room, author=member, body="one too many")

    assert "Slow down" in str(refusal.value) and "still here" in str(refusal.value)
    assert "at most 3 every 1 seconds" in str(refusal.value)
    assert Message.objects.count() == 3
    # Counted in Redis (so every server process sees the same count), under the layer's prefix.
    assert raw_redis().zcard(f"{PREFIX}:ratelimit:{room.pk}:{member.pk}") == 3
    time.sleep(1.05)  # a sliding window: the oldest sends have left it
    message_post(room=room, author=member, body="later is fine")
    assert Message.objects.count() == 4


@pytest.mark.django_db
@override_settings(CHAT_RATE_LIMIT="1/1")
def test_refused_sends_do_not_count_against_the_sender(room, member):
    message_post(room=room, author=member, body="first")
    for _ in range(5):  # hammering Enter does not push the wait further out
        with pytest.raises(MessageRejected, match="Slow down"):
            message_post(room=room, author=member, body="again")
    time.sleep(1.05)
    message_post(room=room, author=member, body="second")
    assert list(Message.objects.values_list("body", flat=True).order_by("id")) == ["first", "second"]


@pytest.mark.django_db
@override_settings(CHAT_RATE_LIMIT="2/60")
def test_a_retried_send_is_not_counted_again(room, member):
    client_id = uuid.uuid4()
    first = message_post(room=room, author=member, body="one", client_id=client_id)
    message_post(room=room, author=member, body="two")
    assert message_post(room=room, author=member, body="one", client_id=client_id).pk == first.pk
    with pytest.raises(MessageRejected, match="Slow down"):
        message_post(room=room, author=member, body="three")


@pytest.mark.django_db
@override_settings(CHAT_RATE_LIMIT="2/60")
def test_the_limit_is_per_user_and_per_room(room, member):
    other_member = MembershipFactory(room=room).user
    other_room = MembershipFactory(user=member).room
    for _ in range(2):
        message_post(room=room, author=member, body="mine")
    message_post(room=room, author=other_member, body="someone else")
    message_post(room=other_room, author=member, body="another room")
    assert Message.objects.count() == 4


@pytest.mark.django_db
@override_settings(CHAT_RATE_LIMIT="1/60")
def test_without_an_answer_from_redis_messages_still_go_through(room, member, monkeypatch, caplog):
    monkeypatch.setattr(
        "messages_app.ratelimit.send_counter", lambda: RedisSendCounter(url=UNREACHABLE_REDIS, prefix="x")
    )
    with caplog.at_level(logging.WARNING, logger="messages_app.ratelimit"):
        message_post(room=room, author=member, body="one")
        message_post(room=room, author=member, body="two")
    assert Message.objects.count() == 2
    assert "rate limit unavailable" in caplog.text


def test_the_memory_counter_keeps_the_same_sliding_window():
    counter = MemorySendCounter()

    def hit(user_id):
        return counter.hit(room_id=1, user_id=user_id, count=2, seconds=0.3)

    assert (hit(7), hit(7)) == (0, 0)
    assert 0 < hit(7) <= 0.3  # the wait until the oldest leaves the window
    assert hit(8) == 0  # per user
    time.sleep(0.31)
    assert hit(7) == 0


def test_the_redis_counter_is_used_when_there_is_redis():
    assert isinstance(send_counter(), RedisSendCounter) and send_counter().prefix == PREFIX


@live
@override_settings(CHAT_RATE_LIMIT="2/60")
async def test_over_the_socket_the_refusal_is_an_error_fragment_and_the_socket_stays_open():
    room = await sync_to_async(RoomFactory)()
    alice = await make_member(room)
    socket = await joined_socket(room, alice)  # its greeting is the first of two

    await socket.send_json_to({"body": "second"})
    await receive_all(socket, "second", COMPOSER_CLEARED)
    await socket.send_json_to({"body": "third, too fast"})

    reply = (await receive_until(socket, 'id="composer-errors"'))[-1]
    assert "Slow down" in reply
    assert not await Message.objects.filter(body="third, too fast").aexists()
    await socket.disconnect()


# --- the cap on sockets per user -------------------------------------------------------------------


async def outputs_until_close(socket):
    """Everything the server sends the socket, up to and including its close."""
    outputs = [await socket.receive_output(timeout=3)]
    while outputs[-1]["type"] != "websocket.close":
        outputs.append(await socket.receive_output(timeout=3))
    return outputs


@live
@override_settings(CHAT_MAX_SOCKETS_PER_USER=2)
async def test_the_socket_over_the_cap_is_closed_with_4429_and_a_closed_one_frees_its_place():
    room = await sync_to_async(RoomFactory)()
    alice, bob = await make_member(room), await make_member(room)
    first, second = await open_socket(room.slug, alice), await open_socket(room.slug, alice)

    outputs = await outputs_until_close(await open_socket(room.slug, alice))

    assert outputs[-1] == {"type": "websocket.close", "code": 4429}
    assert any("too many tabs" in output.get("text", "") for output in outputs)
    bob_socket = await open_socket(room.slug, bob)  # the cap is per user
    await first.disconnect()
    fourth = await open_socket(room.slug, alice)
    await fourth.send_json_to({"body": "in the freed place"})
    await receive_until(fourth, "in the freed place")
    for socket in (second, fourth, bob_socket):
        await socket.disconnect()
    await presence_store().aclose()


@pytest.fixture(params=["redis", "memory"])
async def store(request):
    if request.param == "memory":
        yield MemoryPresence()
        return
    redis_store = RedisPresence(url=settings.REDIS_URL, prefix=PREFIX)
    yield redis_store
    await redis_store.aclose()


async def test_a_socket_that_is_not_refreshed_stops_counting(store):
    user = 10**9 + 1  # no real user's

    def claim(channel):
        return store.claim_socket(user_id=user, channel_name=channel, ttl=0.3, limit=2)

    assert await claim("tab-1") and await claim("tab-2")
    assert not await claim("tab-3")
    assert await claim("tab-1")  # the same socket again is no new one
    await asyncio.sleep(0.35)  # their process died: nobody refreshed them
    assert await claim("tab-3")


async def test_leaving_the_room_frees_the_socket_place(store):
    user = 10**9 + 2
    assert await store.claim_socket(user_id=user, channel_name="tab-1", ttl=30, limit=1)
    await store.update(room_id=10**9, user_id=user, channel_name="tab-1", entering=True, ttl=30)
    assert not await store.claim_socket(user_id=user, channel_name="tab-2", ttl=30, limit=1)
    await store.update(room_id=10**9, user_id=user, channel_name="tab-1", entering=False, ttl=30)
    assert await store.claim_socket(user_id=user, channel_name="tab-2", ttl=30, limit=1)


@override_settings(CHAT_MAX_SOCKETS_PER_USER=1)
async def test_without_an_answer_from_redis_a_socket_is_let_in(monkeypatch):
    monkeypatch.setattr(
        "rooms.presence.stores.presence_store", lambda: RedisPresence(url=UNREACHABLE_REDIS, prefix="x")
    )
    assert await socket_claim(user_id=1, channel_name="a") and await socket_claim(user_id=1, channel_name="b")


# --- allauth's limits, in the shared cache -----------------------------------------------------------


def log_in(client, login, password):
    return client.post("/accounts/login/", {"login": login, "password": password})


@pytest.mark.django_db
def test_repeated_failed_logins_are_rate_limited_even_with_the_right_password_after(user):
    client = Client()
    for _ in range(5):
        response = log_in(client, user.username, "wrong-password")
        assert response.status_code == 200 and "not correct" in response.content.decode()

    response = log_in(client, user.username, PASSWORD)

    assert response.status_code == 200 and "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The count lives in Redis, where every server process reads it.
    assert list(raw_redis().scan_iter(match=f"{PREFIX}:cache:*allauth:rl*login_failed*"))


@pytest.mark.django_db
def test_sign_ups_are_rate_limited_per_ip():
    client = Client()
    for n in range(20):
        assert client.post("/accounts/signup/", {"username": f"spam{n}"}).status_code == 200  # invalid form
    assert client.post("/accounts/signup/", {"username": "spam20"}).status_code == 429


@pytest.mark.django_db
def test_the_admin_logs_in_through_allauth_and_its_limits(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    response = client.post("/admin/login/", {"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session  # Django's own, unlimited form is not used
    assert client.get("/admin/").status_code == 302


def test_the_cache_is_redis_under_a_prefix_of_its_own():
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert settings.CACHES["default"]["KEY_PREFIX"] == f"{PREFIX}:cache"
    cache.set("probe", "shared", 5)
    assert raw_redis().exists(cache.make_key("probe"))


def test_without_redis_the_cache_is_this_process_memory():
    code = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    env = {"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "locmem.LocMemCache" in result.stdout


# --- a login that ends closes its sockets -----------------------------------------------------------


@pytest.mark.django_db
def test_only_a_password_change_sends_the_recheck(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        user.first_name = "Renamed"
        user.save()
        user.save(update_fields=["last_login"])
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        user.set_password("another-Long-password-7")
        user.save()
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_saving_last_login_costs_no_extra_query(user, django_assert_num_queries):
    with django_assert_num_queries(1):
        user.save(update_fields=["last_login"])


@live
async def test_a_new_login_elsewhere_leaves_open_sockets_alone():
    room = await sync_to_async(RoomFactory)()
    alice = await make_member(room)
    socket = await joined_socket(room, alice)

    assert await sync_to_async(Client().login)(username=alice.username, password=PASSWORD)

    await socket.send_json_to({"body": "still connected"})
    await receive_until(socket, "still connected")
    await socket.disconnect()


@pytest.mark.django_db
@override_settings(CHAT_RATE_LIMIT="1/60")
def test_the_post_fallback_says_slow_down_and_keeps_the_draft(client, room, member):
    client.force_login(member)
    client.post(f"/rooms/{room.slug}/messages/", {"body": "first"})

    response = client.post(f"/rooms/{room.slug}/messages/", {"body": "my unsent draft"})

    page = response.content.decode()
    assert response.status_code == 400 and "Slow down" in page and "my unsent draft" in page
    assert list(Message.objects.values_list("body", flat=True)) == ["first"]
