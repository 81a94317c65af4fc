"""The REST API (/api/v1/, api/rest.py) and personal access tokens (api/services.py,
/accounts/tokens/): every endpoint, scopes, revocation, errors as JSON, private rooms
as 404, writes through the same services as the page (the live fan-out included)."""

import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client
from django.utils import timezone

from api.models import ApiToken
from api.services import token_authenticate, token_create
from messages_app.models import Message, Reaction
from messages_app.services import message_post
from rooms.models import Membership, Room
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory
from tests.sockets import joined_socket, live, receive_until

pytestmark = pytest.mark.django_db


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


def api(method, path, secret=None, body=None, client=None, headers=None, **extra):
    """A JSON request to /api/v1/<path> with the token; the response with .data."""
    client = client or Client()
    headers = {**(bearer(secret) if secret else {}), **(headers or {})}
    data = json.dumps(body) if body is not None and not isinstance(body, (str, bytes)) else body
    response = getattr(client, method)(
        f"/api/v1/{path}", data=data, content_type="application/json", headers=headers, **extra
    )
    assert response["Content-Type"].startswith("application/json") or response.status_code == 204, response
    response.data = json.loads(response.content) if response.content else None
    return response


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def room(alice):
    room = RoomFactory(name="General", slug="general")
    MembershipFactory(room=room, user=alice, role=Membership.Role.OWNER)
    return room


@pytest.fixture
def writer(alice):
    return token_create(user=alice, name="bot", scope="write")[1]


@pytest.fixture
def reader(alice):
    return token_create(user=alice, name="dashboard", scope="read")[1]


# --- tokens ---------------------------------------------------------------------------------


def test_only_the_hash_is_stored_the_secret_appears_nowhere_in_the_table(alice):
    token, secret = token_create(user=alice, name="ci", scope="read")
    assert secret.startswith("chat_") and len(secret) > 40
    assert token.prefix == secret[:12]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_token")
        rows = cursor.fetchall()
    assert len(rows) == 1
    assert not any(secret in str(value) for value in rows[0])
    assert token_authenticate(secret=secret) == token
    assert token_authenticate(secret=secret + "x") is None


def test_last_used_is_written_at_most_once_a_minute(alice, django_assert_num_queries):
    token, secret = token_create(user=alice, name="ci", scope="read")
    with django_assert_num_queries(2):  # the lookup, then the first use written
        token_authenticate(secret=secret)
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    with django_assert_num_queries(1):  # the lookup only
        token_authenticate(secret=secret)
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(seconds=61))
    token_authenticate(secret=secret)
    assert ApiToken.objects.get().last_used_at > first


def test_the_tokens_page_makes_a_token_shows_it_once_and_revokes_it(alice):
    client = Client()
    client.force_login(alice)
    made = client.post("/accounts/tokens/", {"name": "deploy bot", "scope": "write"})
    assert made.status_code == 200 and made["Cache-Control"].startswith("max-age=0")
    secret = made.context["secret"]
    assert secret in made.content.decode() and 'data-copy="#token-secret"' in made.content.decode()
    token = ApiToken.objects.get()
    assert (token.name, token.scope, token.user) == ("deploy bot", "write", alice)

    listed = client.get("/accounts/tokens/").content.decode()
    assert secret not in listed  # shown once
    assert "deploy bot" in listed and token.prefix in listed and "never used" in listed
    assert api("get", "me", secret).status_code == 200

    revoked = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert revoked.status_code == 303
    assert api("get", "me", secret).status_code == 401
    assert "revoked" in client.get("/accounts/tokens/").content.decode()


def test_the_tokens_page_refuses_bad_input_and_others_tokens(alice):
    client = Client()
    client.force_login(alice)
    assert client.post("/accounts/tokens/", {"name": "", "scope": "write"}).status_code == 400
    assert client.post("/accounts/tokens/", {"name": "x", "scope": "admin"}).status_code == 400
    assert not ApiToken.objects.exists()
    theirs, _ = token_create(user=UserFactory(), name="theirs", scope="read")
    assert client.post(f"/accounts/tokens/{theirs.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get().revoked_at is None
    assert Client().get("/accounts/tokens/").status_code == 302  # login required


def test_the_admin_lists_tokens_without_the_hash(alice):
    token, _ = token_create(user=alice, name="ci", scope="read")
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    assert "ci" in client.get("/admin/api/apitoken/").content.decode()
    change = client.get(f"/admin/api/apitoken/{token.pk}/change/").content.decode()
    assert token.token_hash not in change and 'name="token_hash"' not in change
    assert client.get("/admin/api/apitoken/add/").status_code == 403


# --- authentication and scopes ------------------------------------------------------------------


def test_me_with_a_token(alice, writer):
    response = api("get", "me", writer)
    assert response.status_code == 200
    assert response.data == {
        "id": alice.pk,
        "username": "alice",
        "display_name": "alice",
        "token": {"name": "bot", "scope": "write", "prefix": writer[:12]},
    }


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic YTpi"}, {"Authorization": "Bearer "}],
)
def test_no_or_bad_token_is_401_json(headers):
    response = api("get", "me", headers=headers)
    assert response.status_code == 401
    assert set(response.data) == {"detail"} and response["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_401_even_beside_a_session(alice, writer):
    ApiToken.objects.update(revoked_at=timezone.now())
    client = Client()
    client.force_login(alice)
    assert api("get", "me", writer, client=client).status_code == 401
    assert api("get", "me", client=client).status_code == 200  # the session alone still works


def test_an_inactive_users_token_is_401(alice, writer):
    alice.is_active = False
    alice.save()
    assert api("get", "me", writer).status_code == 401


def test_a_read_token_reads_but_cannot_write(room, reader):
    assert api("get", "rooms/general/messages", reader).status_code == 200
    refused = api("post", "rooms/general/messages", reader, {"body": "hi"})
    assert refused.status_code == 403 and "read" in refused.data["detail"]
    assert not Message.objects.exists()


def test_the_session_needs_the_csrf_token_for_writes(alice, room):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.get("/accounts/tokens/")  # the CSRF cookie
    refused = api("post", "rooms/general/messages", body={"body": "hi"}, client=client)
    assert refused.status_code == 403 and "CSRF" in refused.data["detail"]
    token = client.cookies["csrftoken"].value
    headers = {"X-CSRFToken": token}
    posted = api("post", "rooms/general/messages", body={"body": "hi"}, client=client, headers=headers)
    assert posted.status_code == 201
    assert Message.objects.get().body == "hi"


# --- rooms and messages ---------------------------------------------------------------------


def test_rooms_lists_mine_and_public_never_others_private(alice, room, writer):
    RoomFactory(name="Open", slug="open")
    secret_room = RoomFactory(name="Secret", slug="secret", is_private=True)
    mine_private = RoomFactory(name="Mine", slug="mine", is_private=True)
    MembershipFactory(room=mine_private, user=alice)
    banned = RoomFactory(name="Banned", slug="banned")
    MembershipFactory(room=banned, user=alice, banned_at=timezone.now())
    response = api("get", "rooms", writer)
    assert response.status_code == 200
    slugs = {room["slug"]: room for room in response.data["rooms"]}
    assert set(slugs) == {"general", "mine", "open"}
    assert slugs["general"]["is_member"] and not slugs["open"]["is_member"]
    assert slugs["mine"]["is_private"] and secret_room.slug not in slugs


def test_list_endpoints_make_a_constant_number_of_queries(alice, room, writer, django_assert_max_num_queries):
    for n in range(3):
        RoomFactory(slug=f"extra-{n}")
        reply_to = MessageFactory(room=room, author=UserFactory())
        MessageFactory(room=room, author=UserFactory(), reply_to=reply_to)
    for path in ("rooms", "rooms/general/messages", "search?q=message"):
        api("get", path, writer)  # last_used written once
        with django_assert_max_num_queries(5) as few:  # messages: + their reactions, in one
            api("get", path, writer)
        for _ in range(10):
            RoomFactory()
            reacted = MessageFactory(room=room, author=UserFactory())
            Reaction.objects.create(message=reacted, user=UserFactory(), emoji="🎉")
        with django_assert_max_num_queries(len(few.captured_queries)):
            assert api("get", path, writer).status_code == 200


def test_messages_pages_before_after_and_limit(room, writer, alice):
    ids = [message_post(room=room, author=alice, body=f"m{n}").pk for n in range(5)]
    latest = api("get", "rooms/general/messages?limit=2", writer).data
    assert [m["id"] for m in latest["messages"]] == ids[3:] and latest["has_more"]
    older = api("get", f"rooms/general/messages?before={ids[3]}&limit=2", writer).data
    assert [m["id"] for m in older["messages"]] == ids[1:3] and older["has_more"]
    newer = api("get", f"rooms/general/messages?after={ids[1]}", writer).data
    assert [m["id"] for m in newer["messages"]] == ids[2:] and not newer["has_more"]
    first = newer["messages"][0]
    assert first["body"] == "m2" and first["author"] == {"username": "alice", "display_name": "alice"}
    both = api("get", f"rooms/general/messages?before={ids[3]}&after={ids[1]}", writer)
    assert both.status_code == 422
    for bad in ("limit=0", "limit=101", "before=-1", f"after={2**63}", "before=x"):
        assert api("get", f"rooms/general/messages?{bad}", writer).status_code == 422, bad


def test_a_deleted_message_keeps_its_place_without_its_text(room, writer, alice):
    message = message_post(room=room, author=alice, body="oops")
    api("delete", f"rooms/general/messages/{message.pk}", writer)
    (shown,) = api("get", "rooms/general/messages", writer).data["messages"]
    assert shown["deleted"] and shown["body"] == ""


def test_a_public_room_is_readable_by_anyone_but_only_members_post(room):
    _, outsider = token_create(user=UserFactory(), name="t", scope="write")
    assert api("get", "rooms/general/messages", outsider).status_code == 200
    refused = api("post", "rooms/general/messages", outsider, {"body": "hi"})
    assert refused.status_code == 403 and "Join" in refused.data["detail"]


def test_a_private_room_is_404_to_outsiders_whatever_they_send(alice):
    private = RoomFactory(slug="hidden", is_private=True)
    MembershipFactory(room=private, user=alice)
    message = message_post(room=private, author=alice, body="secret")
    _, outsider = token_create(user=UserFactory(), name="t", scope="write")
    requests = [
        ("get", "rooms/hidden/messages", None),
        ("get", "rooms/hidden/messages?limit=0&before=x", None),
        ("post", "rooms/hidden/messages", {"body": "hi"}),
        ("post", "rooms/hidden/messages", "{not json"),
        ("post", "rooms/hidden/messages", {"body": 5}),
        ("post", "rooms/hidden/messages", {"body": "x" * 5000}),
        ("patch", f"rooms/hidden/messages/{message.pk}", {"body": "mine now"}),
        ("delete", f"rooms/hidden/messages/{message.pk}", None),
        ("get", "rooms/no-such-room/messages", None),
    ]
    for method, path, body in requests:
        response = api(method, path, outsider, body)
        assert (response.status_code, response.data) == (404, {"detail": "No such room."}), (method, path)
    assert Message.objects.get().body == "secret" and not Message.objects.get().is_deleted
    assert "secret" not in json.dumps(api("get", "search?q=secret", outsider).data)


def test_a_banned_member_of_a_private_room_gets_404(alice):
    private = RoomFactory(slug="hidden", is_private=True)
    banned = UserFactory()
    MembershipFactory(room=private, user=banned, banned_at=timezone.now())
    _, secret = token_create(user=banned, name="t", scope="write")
    assert api("get", "rooms/hidden/messages", secret).status_code == 404


def test_post_a_message_and_a_reply(room, writer, alice):
    posted = api("post", "rooms/general/messages", writer, {"body": "hello **world**"})
    assert posted.status_code == 201
    message = Message.objects.get()
    assert posted.data["id"] == message.pk and posted.data["body"] == "hello **world**"
    assert "<strong>world</strong>" in message.body_html  # rendered as the page renders it
    reply = api("post", "rooms/general/messages", writer, {"body": "re", "reply_to": message.pk})
    assert reply.status_code == 201 and reply.data["reply_to"] == message.pk
    message.refresh_from_db()
    assert message.reply_count == 1


def test_a_reply_to_a_message_of_another_room_is_refused(room, writer, alice):
    other = RoomFactory(slug="other")
    MembershipFactory(room=other, user=alice)
    elsewhere = message_post(room=other, author=alice, body="elsewhere")
    refused = api("post", "rooms/general/messages", writer, {"body": "re", "reply_to": elsewhere.pk})
    assert refused.status_code == 422 and "reply_to" in refused.data["detail"]
    assert Message.objects.filter(room=room).count() == 0


@pytest.mark.parametrize(
    "body, status",
    [
        ("{not json", 400),
        ("[]", 422),
        ({"reply_to": 1}, 422),
        ({"body": 5}, 422),
        ({"body": "   "}, 422),
        ({"body": "x", "reply_to": 2**64}, 422),
        ({"body": "x" * 4001}, 413),
    ],
)
def test_bad_posts_are_json_errors_and_save_nothing(room, writer, body, status):
    response = api("post", "rooms/general/messages", writer, body)
    assert response.status_code == status and "detail" in response.data
    assert not Message.objects.exists()


def test_a_request_body_over_djangos_limit_is_413(room, writer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api("post", "rooms/general/messages", writer, {"body": "x" * 2000})
    assert response.status_code == 413 and "detail" in response.data


def test_rate_limited_posts_are_429_with_retry_after(room, writer, settings):
    settings.CHAT_RATE_LIMIT = "1/60"
    assert api("post", "rooms/general/messages", writer, {"body": "one"}).status_code == 201
    refused = api("post", "rooms/general/messages", writer, {"body": "two"})
    assert refused.status_code == 429 and "Slow down" in refused.data["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert Message.objects.count() == 1


def test_slow_mode_is_429_too(room, writer):
    Room.objects.filter(pk=room.pk).update(slow_mode_seconds=30)
    member = UserFactory()
    MembershipFactory(room=room, user=member)
    _, secret = token_create(user=member, name="t", scope="write")
    api("post", "rooms/general/messages", secret, {"body": "one"})
    refused = api("post", "rooms/general/messages", secret, {"body": "two"})
    assert refused.status_code == 429 and 29 <= int(refused["Retry-After"]) <= 30


def test_muted_and_archived_are_403(room, writer, alice):
    Membership.objects.filter(user=alice).update(muted_until=timezone.now() + timedelta(hours=1))
    assert api("post", "rooms/general/messages", writer, {"body": "x"}).status_code == 403
    Membership.objects.filter(user=alice).update(muted_until=None)
    Room.objects.filter(pk=room.pk).update(archived_at=timezone.now())
    assert api("post", "rooms/general/messages", writer, {"body": "x"}).status_code == 403
    assert not Message.objects.exists()


def test_edit_and_delete_my_message_not_others(room, writer, alice):
    mine = message_post(room=room, author=alice, body="draft")
    bob = UserFactory()
    MembershipFactory(room=room, user=bob)
    bobs = message_post(room=room, author=bob, body="bob's")
    _, bob_secret = token_create(user=bob, name="t", scope="write")

    edited = api("patch", f"rooms/general/messages/{mine.pk}", writer, {"body": "final"})
    assert edited.status_code == 200 and edited.data["body"] == "final" and edited.data["edited_at"]
    refused = api("patch", f"rooms/general/messages/{mine.pk}", bob_secret, {"body": "hijacked"})
    assert refused.status_code == 403
    assert api("delete", f"rooms/general/messages/{mine.pk}", bob_secret).status_code == 403
    mine.refresh_from_db()
    assert mine.body == "final" and not mine.is_deleted

    assert api("delete", f"rooms/general/messages/{bobs.pk}", bob_secret).status_code == 204
    assert api("delete", f"rooms/general/messages/{bobs.pk}", bob_secret).status_code == 404  # gone
    assert api("patch", "rooms/general/messages/999999", writer, {"body": "x"}).status_code == 404
    assert api("delete", f"rooms/general/messages/{2**63}", writer).status_code == 404


def test_search_across_my_rooms(room, writer, alice):
    message_post(room=room, author=alice, body="the quarterly report is ready")
    message_post(room=room, author=alice, body="lunch?")
    found = api("get", "search?q=report", writer)
    assert found.status_code == 200
    (result,) = found.data["results"]
    assert result["message"]["body"] == "the quarterly report is ready" and "report" in result["excerpt"]
    assert api("get", "search", writer).status_code == 422
    assert api("get", "search?q=" + "x" * 201, writer).status_code == 422
    assert api("get", "search?q=a%00b", writer).status_code == 200


def test_unknown_api_urls_and_methods_are_json(writer):
    missing = api("get", "nothing-here", writer)
    assert missing.status_code == 404 and missing.data == {"detail": "No such API endpoint."}
    wrong = api("put", "me", writer)
    assert wrong.status_code == 405 and "detail" in wrong.data
    assert api("get", "", writer).status_code == 404


def test_openapi_document_names_every_endpoint_and_bearer_auth():
    document = Client().get("/api/v1/openapi.json").json()
    assert set(document["paths"]) == {
        "/api/v1/me",
        "/api/v1/rooms",
        "/api/v1/rooms/{slug}/messages",
        "/api/v1/rooms/{slug}/messages/{message_id}",
        "/api/v1/rooms/{slug}/messages/{message_id}/reactions",
        "/api/v1/rooms/{slug}/membership",
        "/api/v1/search",
    }
    assert document["components"]["securitySchemes"]["TokenAuth"] == {"type": "http", "scheme": "bearer"}


def test_the_docs_page_uses_bundled_files_and_no_validator():
    page = Client().get("/api/v1/docs")
    html = page.content.decode()
    assert page.status_code == 200 and "Content-Security-Policy" in page
    assert "/static/ninja/swagger-ui-bundle.js" in html and "//cdn" not in html
    assert '"validatorUrl": null' in html


# --- the live fan-out -------------------------------------------------------------------------


@live
async def test_a_post_through_the_api_reaches_a_members_open_socket():
    room = await sync_to_async(RoomFactory)()
    alice, bob = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    await sync_to_async(MembershipFactory)(room=room, user=alice)
    await sync_to_async(MembershipFactory)(room=room, user=bob)
    _, secret = await sync_to_async(token_create)(user=alice, name="bot", scope="write")
    socket = await joined_socket(room, bob)
    try:
        post = sync_to_async(api)
        posted = await post("post", f"rooms/{room.slug}/messages", secret, {"body": "from the API"})
        assert posted.status_code == 201
        frames = await receive_until(socket, "from the API")
        assert f'id="message-{posted.data["id"]}"' in frames[-1]
    finally:
        await socket.disconnect()


# --- reactions and membership ------------------------------------------------------------


def test_a_reaction_toggles_through_the_service_and_shows_in_the_messages(room, writer, alice):
    message = message_post(room=room, author=alice, body="ship it")
    path = f"rooms/general/messages/{message.pk}/reactions"
    on = api("post", path, writer, {"emoji": "🚀"})
    assert on.status_code == 200 and on.data == {"message_id": message.pk, "emoji": "🚀", "reacted": True}
    listed = api("get", "rooms/general/messages", writer).data["messages"][-1]
    assert listed["reactions"] == [{"emoji": "🚀", "count": 1, "names": [alice.shown_name]}]
    assert api("post", path, writer, {"emoji": "🚀"}).data["reacted"] is False
    assert not Reaction.objects.filter(message=message).exists()


def test_a_bad_reaction_is_refused_and_saves_nothing(room, writer, reader, alice):
    message = message_post(room=room, author=alice, body="ship it")
    path = f"rooms/general/messages/{message.pk}/reactions"
    assert api("post", path, writer, {"emoji": "not an emoji"}).status_code == 422
    assert api("post", path, writer, {}).status_code == 422
    assert api("post", path, reader, {"emoji": "🚀"}).status_code == 403  # a read token
    elsewhere = MessageFactory(room=RoomFactory(), author=UserFactory())
    forged = f"rooms/general/messages/{elsewhere.pk}/reactions"
    assert api("post", forged, writer, {"emoji": "🚀"}).status_code == 404
    assert not Reaction.objects.exists()


def test_joining_and_leaving_a_public_room_through_the_api(writer, alice):
    public = RoomFactory(slug="lobby")
    joined = api("put", "rooms/lobby/membership", writer)
    assert joined.status_code == 200 and joined.data == {"room": "lobby", "is_member": True, "role": "member"}
    assert Membership.objects.filter(room=public, user=alice).exists()
    assert api("put", "rooms/lobby/membership", writer).status_code == 200  # joining twice: still one
    assert api("delete", "rooms/lobby/membership", writer).status_code == 204
    assert not Membership.objects.filter(room=public, user=alice).exists()


def test_a_private_room_cannot_be_joined_and_stays_404_and_a_ban_stays(writer, alice):
    RoomFactory(slug="den", is_private=True)
    assert api("put", "rooms/den/membership", writer).status_code == 404
    assert not Membership.objects.filter(user=alice, room__slug="den").exists()
    banned_from = RoomFactory(slug="was-here")
    MembershipFactory(room=banned_from, user=alice, banned_at=timezone.now())
    assert api("put", "rooms/was-here/membership", writer).status_code == 403
    assert Membership.objects.get(room=banned_from, user=alice).banned_at is not None
