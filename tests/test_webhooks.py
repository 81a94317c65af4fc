"""Incoming webhooks (api/webhooks.py, api/webhook_views.py): a room owner makes a
secret URL on the room's webhooks page; `POST /hooks/<token>/` with Slack's JSON (or
its form field `payload=`) posts into the room as the hook's bot, through
message_post, so it is saved, in history with a bot badge, and live on open sockets.
Refusals are JSON {"detail"} and save nothing. Browser: tests/browser/test_webhooks_browser.py."""

import hashlib
import json
import re
from urllib.parse import urlencode

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client

from api.models import IncomingWebhook
from api.webhooks import webhook_create, webhook_revoke
from messages_app.models import Message
from rooms.models import Membership
from tests.clients import logged_in
from tests.factories import MembershipFactory, RoomFactory, UserFactory
from tests.sockets import joined_socket, live, make_member, receive_until

OWNER, MODERATOR = Membership.Role.OWNER, Membership.Role.MODERATOR
FORM = "application/x-www-form-urlencoded"
URL = re.compile(r"http://testserver(/hooks/([\w-]+)/)")


@pytest.fixture
def owner(room):
    return MembershipFactory(room=room, role=OWNER).user


@pytest.fixture
def hook(room, owner):
    """(hook, its URL path)."""
    hook, token = webhook_create(room=room, created_by=owner, name="Deploys")
    return hook, f"/hooks/{token}/"


def send(path, payload, **extra):
    return Client().post(path, json.dumps(payload), content_type="application/json", **extra)


def page_of(room, user):
    return logged_in(user).get(f"/rooms/{room.slug}/").content.decode()


# --- making hooks on the room's page ------------------------------------------------------------


@pytest.mark.django_db
def test_the_owner_makes_a_hook_and_sees_its_url_once_and_only_its_hash_is_stored(room, owner):
    client = logged_in(owner)
    response = client.post(f"/rooms/{room.slug}/webhooks/", {"name": "  Deploys "})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    path, token = URL.search(page).groups()
    hook = IncomingWebhook.objects.get()
    assert (hook.room, hook.name, hook.created_by) == (room, "Deploys", owner)
    assert hook.token_hash == hashlib.sha256(token.encode()).hexdigest()
    with connection.cursor() as cursor:  # every column of every row, as text
        cursor.execute("SELECT t::text FROM api_incomingwebhook t")
        (row,) = cursor.fetchone()
    assert token not in row and hook.token_hash in row
    # A dedicated bot: a member of the room that can never log in.
    bot = hook.bot
    assert bot.is_bot and not bot.has_usable_password() and bot.display_name == "Deploys"
    assert Membership.objects.get(room=room, user=bot).role == Membership.Role.MEMBER
    # Shown once: the page read again lists the hook without its URL.
    again = client.get(f"/rooms/{room.slug}/webhooks/").content.decode()
    assert "Deploys" in again and token not in again and "/hooks/" not in again
    assert send(path, {"text": "it works"}).status_code == 200


@pytest.mark.django_db
def test_the_bot_is_in_the_member_list_with_its_badge(room, owner, hook):
    page = page_of(room, owner)
    bot_row = re.search(rf'<li data-user="{hook[0].bot_id}">.*?</li>', page, re.DOTALL).group()
    assert "Deploys" in bot_row and '<span class="bot-badge">bot</span>' in bot_row


@pytest.mark.django_db
def test_bots_are_not_in_the_people_directory(room, owner, hook):
    people = logged_in(owner).get("/people/").content.decode()
    assert owner.username in people and hook[0].bot.username not in people and "Deploys" not in people


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["", "   ", "x" * 51])
def test_a_hook_needs_a_name_of_at_most_50_characters(room, owner, name):
    response = logged_in(owner).post(f"/rooms/{room.slug}/webhooks/", {"name": name})
    assert response.status_code == 400
    assert 'id="webhook-name-error"' in response.content.decode()
    assert not IncomingWebhook.objects.exists()


@pytest.mark.django_db
def test_the_settings_panel_links_the_page_for_owners_only(room, owner):
    moderator = MembershipFactory(room=room, role=MODERATOR).user
    assert f'href="/rooms/{room.slug}/webhooks/"' in page_of(room, owner)
    assert f'href="/rooms/{room.slug}/webhooks/"' not in page_of(room, moderator)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [MODERATOR, Membership.Role.MEMBER, None])
def test_only_owners_see_make_or_revoke_hooks(room, hook, role):
    person = UserFactory()
    if role:
        MembershipFactory(room=room, user=person, role=role)
    client = logged_in(person)
    hook, path = hook
    pages = f"/rooms/{room.slug}/webhooks/"
    assert client.get(pages).status_code == 403  # a public room: they know it exists
    assert client.post(pages, {"name": "Mine"}).status_code == 403
    assert client.post(f"{pages}{hook.pk}/revoke/").status_code == 403
    assert IncomingWebhook.objects.get().revoked_at is None and IncomingWebhook.objects.count() == 1
    assert Client().get(pages).status_code == 302  # to the login page


@pytest.mark.django_db
def test_a_private_rooms_hooks_are_404_to_non_members(owner, room, hook):
    room.is_private = True
    room.save(update_fields=["is_private"])
    client = logged_in(UserFactory())
    pages = f"/rooms/{room.slug}/webhooks/"
    assert client.get(pages).status_code == 404
    assert client.post(pages, {"name": "Mine"}).status_code == 404
    assert client.post(f"{pages}{hook[0].pk}/revoke/").status_code == 404
    assert logged_in(owner).get(pages).status_code == 200


@pytest.mark.django_db
def test_the_owner_revokes_a_hook_and_its_url_is_404(room, owner, hook):
    hook, path = hook
    client = logged_in(owner)
    response = client.post(f"/rooms/{room.slug}/webhooks/{hook.pk}/revoke/")

    assert response.status_code == 303 and response["Location"] == f"/rooms/{room.slug}/webhooks/"
    hook.refresh_from_db()
    assert hook.revoked_at is not None
    # Its bot leaves the room, its account closed (its messages would stay).
    assert not Membership.objects.filter(user=hook.bot).exists()
    assert not type(hook.bot).objects.get(pk=hook.bot_id).is_active
    refused = send(path, {"text": "after the revoke"})
    assert refused.status_code == 404 and "revoked" in refused.json()["detail"]
    assert not Message.objects.exists()
    listed = client.get(f"/rooms/{room.slug}/webhooks/").content.decode()
    assert "revoked" in listed and f"/webhooks/{hook.pk}/revoke/" not in listed


@pytest.mark.django_db
def test_another_rooms_hook_cannot_be_revoked_from_this_room(room, owner, hook):
    other = RoomFactory()
    MembershipFactory(room=other, user=owner, role=OWNER)
    response = logged_in(owner).post(f"/rooms/{other.slug}/webhooks/{hook[0].pk}/revoke/")
    assert response.status_code == 404
    assert IncomingWebhook.objects.get().revoked_at is None


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_for_one_hook_or_many(room, owner, django_assert_max_num_queries):
    client = logged_in(owner)
    webhook_create(room=room, created_by=owner, name="One")
    with django_assert_max_num_queries(6) as one:
        client.get(f"/rooms/{room.slug}/webhooks/")
    for number in range(5):
        webhook_create(room=room, created_by=UserFactory(), name=f"Hook {number}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(f"/rooms/{room.slug}/webhooks/").content.decode()
    assert page.count('class="webhook"') == 6


# --- posting ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_slack_json_posts_as_the_bot_with_the_override_name_and_a_badge_in_history(room, owner, hook):
    hook, path = hook
    response = send(
        path, {"text": "Build *42* passed", "username": "CI", "icon_url": "https://ci.example/i.png"}
    )

    assert response.status_code == 200
    message = Message.objects.get()
    assert response.json() == {"ok": True, "message_id": message.pk}
    assert (message.room, message.author, message.body) == (room, hook.bot, "Build *42* passed")
    assert (message.bot_name, message.bot_icon_url) == ("CI", "https://ci.example/i.png")
    hook.refresh_from_db()
    assert hook.last_used is not None
    page = page_of(room, owner)
    article = re.search(rf'<article id="message-{message.pk}".*?</article>', page, re.DOTALL).group()
    assert '<strong class="author">CI</strong> <span class="bot-badge">bot</span>' in article
    assert "ci.example" not in page  # the icon is never loaded from the caller's address
    # History fragments (infinite scroll and catch-up) carry the badge too.
    history = logged_in(owner).get(f"/rooms/{room.slug}/messages/?after=0").content.decode()
    assert '<span class="bot-badge">bot</span>' in history and ">CI</strong>" in history


@pytest.mark.django_db
def test_without_a_username_the_bot_is_shown_by_the_hooks_name(room, owner, hook):
    assert send(hook[1], {"text": "plain"}).status_code == 200
    badge = '<strong class="author">Deploys</strong> <span class="bot-badge">bot</span>'
    assert badge in page_of(room, owner)


@pytest.mark.django_db
def test_slacks_form_encoded_payload_field_posts_too(room, hook):
    payload = json.dumps({"text": "from a form", "username": "Jenkins"})
    response = Client().post(hook[1], urlencode({"payload": payload}), content_type=FORM)  # Slack's way
    assert response.status_code == 200, response.content
    assert Client().post(hook[1], {"payload": json.dumps({"text": "multipart"})}).status_code == 200
    assert list(Message.objects.values_list("body", "bot_name")) == [
        ("from a form", "Jenkins"),
        ("multipart", ""),
    ]


@pytest.mark.django_db
def test_markup_in_text_and_username_is_escaped(room, owner, hook):
    send(hook[1], {"text": "<script>alert(1)</script>", "username": '<img src=x onerror="alert(2)">'})
    page = page_of(room, owner)
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        ("{not json", "application/json", "not valid JSON"),
        (b"\xff\xfe", "application/json", "not valid JSON"),
        ("[" * 5000 + "]" * 5000, "application/json", None),  # too deep for the parser, or not an object
        ('["text"]', "application/json", "JSON object"),
        ("{}", "application/json", '"text" is missing'),
        ('{"text": ""}', "application/json", '"text" is missing'),
        ('{"text": "  \\u0000 "}', "application/json", '"text" is missing'),
        ('{"text": 42}', "application/json", '"text" is missing'),
        ('{"text": "hi", "username": 7}', "application/json", '"username"'),
        ('{"text": "hi", "username": "' + "u" * 81 + '"}', "application/json", '"username"'),
        ('{"text": "hi", "icon_url": "javascript:alert(1)"}', "application/json", '"icon_url"'),
        ('{"text": "hi", "icon_url": "ftp://x.example/i.png"}', "application/json", '"icon_url"'),
        ('{"text": "' + "x" * 4001 + '"}', "application/json", "at most 4,000"),
        ("text=hi", FORM, '"payload" field'),
        ("payload=%7Bbad", FORM, "not valid JSON"),
    ],
)
def test_bad_bodies_are_400_with_a_detail_and_save_nothing(room, hook, body, content_type, says):
    response = Client().post(hook[1], body, content_type=content_type)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert says is None or says in detail
    assert not Message.objects.exists()
    hook[0].refresh_from_db()
    assert hook[0].last_used is None


@pytest.mark.django_db
def test_an_unknown_token_is_404_and_get_is_405(room, hook):
    response = send("/hooks/not-a-real-token/", {"text": "hi"})
    assert response.status_code == 404 and response.json()["detail"]
    got = Client().get(hook[1])
    assert got.status_code == 405 and got["Allow"] == "POST" and got.json()["detail"]
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_a_body_over_the_limit_is_413(room, hook, settings):
    settings.WEBHOOK_MAX_BYTES = 1000
    response = send(hook[1], {"text": "x" * 1000})
    assert response.status_code == 413 and "1,000 bytes" in response.json()["detail"]
    assert send(hook[1], {"text": "x" * 900}).status_code == 200
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_each_hook_is_rate_limited_with_retry_after(room, owner, hook, settings):
    settings.WEBHOOK_RATE_LIMIT = "2/60"
    assert [send(hook[1], {"text": f"n{n}"}).status_code for n in range(2)] == [200, 200]
    refused = send(hook[1], {"text": "one too many"})
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60 and "at most 2 messages" in refused.json()["detail"]
    assert list(Message.objects.values_list("body", flat=True)) == ["n0", "n1"]
    # Counted per hook: another hook of the room still posts.
    _, other = webhook_create(room=room, created_by=owner, name="Other")
    assert send(f"/hooks/{other}/", {"text": "other hook"}).status_code == 200


@pytest.mark.django_db
def test_the_rooms_own_rate_limit_on_the_bot_is_a_429_too(room, hook, settings):
    settings.WEBHOOK_RATE_LIMIT, settings.CHAT_RATE_LIMIT = "0", "1/60"
    assert send(hook[1], {"text": "first"}).status_code == 200
    refused = send(hook[1], {"text": "second"})
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_a_banned_bot_or_an_archived_room_is_403(room, owner, hook):
    hook, path = hook
    Membership.objects.filter(user=hook.bot).update(banned_at="2026-01-01T00:00:00Z")
    banned = send(path, {"text": "hi"})
    assert banned.status_code == 403 and "banned" in banned.json()["detail"]
    assert not Message.objects.exists()


# --- live ---------------------------------------------------------------------------------------


@live
async def test_a_hooks_message_reaches_an_open_socket_with_the_badge(room):
    member = await make_member(room)
    owner = await make_member(room, role=OWNER)
    _, token = await sync_to_async(webhook_create)(room=room, created_by=owner, name="Deploys")
    socket = await joined_socket(room, member)
    try:
        payload = {"text": "shipped <b>v2</b>", "username": "CD"}
        response = await sync_to_async(send)(f"/hooks/{token}/", payload)
        assert response.status_code == 200
        (frame,) = [f for f in await receive_until(socket, "shipped") if "shipped" in f]
        assert f'id="message-{response.json()["message_id"]}"' in frame
        assert '<strong class="author">CD</strong> <span class="bot-badge">bot</span>' in frame
        assert "shipped &lt;b&gt;v2&lt;/b&gt;" in frame
    finally:
        await socket.disconnect()


# --- admin --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_lists_hooks_and_revokes_them(room, owner, hook):
    staff = UserFactory(is_staff=True, is_superuser=True)
    other, _ = webhook_create(room=room, created_by=owner, name="Alerts")
    webhook_revoke(hook=other)
    client = logged_in(staff)
    page = client.get("/admin/api/incomingwebhook/").content.decode()
    assert "Deploys" in page and "Alerts" in page and room.name in page and owner.username in page
    assert client.get("/admin/api/incomingwebhook/add/").status_code == 403

    response = client.post(
        "/admin/api/incomingwebhook/", {"action": "revoke", "_selected_action": [hook[0].pk, other.pk]}
    )
    assert response.status_code == 302
    assert not IncomingWebhook.objects.filter(revoked_at__isnull=True).exists()
    assert send(hook[1], {"text": "after the admin revoked it"}).status_code == 404
