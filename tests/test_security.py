"""Security over HTTP, for every view the project serves (tests/url_walk.py):

- the Content Security Policy (config/security.py) is on every HTML page, and no
  page holds what the policy would block (inline script or style, event handler
  attributes, hx-on, javascript: URLs);
- CSRF: a POST without a token is refused with 403 by every view, htmx requests
  included, and changes nothing; htmx requests that carry the token from
  <body hx-headers> succeed.

In a real browser: tests/browser/test_security_browser.py (XSS payloads, no CSP
violation while chatting and in the admin). Cross-origin sockets:
tests/test_consumer.py and tests/test_cross_process.py. Private rooms:
tests/test_private_rooms.py.
"""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from api.services import token_create
from api.webhooks import webhook_create
from attachments.tasks import attachments_sweep
from config.security import CONTENT_SECURITY_POLICY
from messages_app.models import Message, ModerationAction
from messages_app.services import message_post, report_create
from notifications.models import Notification, Preferences, PushSubscription
from notifications.services import room_level_set
from rooms.models import Membership, Room
from rooms.services import invitation_create
from tests.factories import MembershipFactory, RoomFactory, UserFactory
from tests.url_walk import project_routes

OWNER = Membership.Role.OWNER
HTMX = {"HX-Request": "true"}
ROOT = Path(__file__).resolve().parent.parent


class World:
    """A room with an owner (also staff), a member, messages, an invite link, a
    report and one row of every model the admin edits: every URL parameter names
    a real object, so a forged request that got through would change something."""

    def __init__(self):
        self.owner = UserFactory(username="owner", is_staff=True, is_superuser=True)
        self.bob = UserFactory(username="bob")
        self.room = RoomFactory(name="Security", topic="Shields up")
        MembershipFactory(room=self.room, user=self.owner, role=OWNER)
        MembershipFactory(room=self.room, user=self.bob)
        self.message = message_post(room=self.room, author=self.owner, body="hello")
        self.bob_message = message_post(room=self.room, author=self.bob, body="hi")
        self.file_message = message_post(
            room=self.room, author=self.bob, body="a file", files=[SimpleUploadedFile("notes.txt", b"notes")]
        )
        self.invitation = invitation_create(room=self.room, created_by=self.owner)
        self.webhook, _ = webhook_create(room=self.room, created_by=self.owner, name="CI")
        report_create(room=self.room, reporter=self.owner, message_id=self.bob_message.pk, reason="spam")
        ModerationAction.objects.create(
            actor=self.owner, action="mute", room=self.room, target_user=self.bob, source="page"
        )
        EmailAddress.objects.create(user=self.owner, email="owner@example.com", primary=True, verified=True)
        Group.objects.create(name="moderators")
        attachments_sweep.enqueue()  # a row of the worker's queue (django-tasks-db's admin)
        self.token, self.token_secret = token_create(user=self.bob, name="script", scope="write")
        self._notification_rows()

    def _notification_rows(self):
        room_level_set(user=self.bob, room=self.room, level="all")
        Preferences.objects.create(user=self.owner)
        Notification.objects.create(user=self.bob, message=self.message, room=self.room, reason="message")
        PushSubscription.objects.create(user=self.bob, endpoint="https://push.example/", p256dh="k", auth="a")

    def values(self, route):
        """A value for each parameter of the route, naming objects of this world."""
        pk = self.invitation.pk if "invitations/" in route.route else self.message.pk
        if route.route.startswith("attachments/"):
            pk = self.file_message.attachments.get().pk
        return {
            "slug": self.room.slug,
            "pk": self.token.pk if route.route.startswith("accounts/tokens/") else pk,
            "message_id": self.bob_message.pk,  # api/v1/rooms/<slug>/messages/<int:message_id>
            "user_id": self.bob.pk,
            "action": "ban",
            "token": self.invitation.token,
            "object_id": self._admin_object_id(route),
            "content_type_id": ContentType.objects.get_for_model(Room).pk,
            "id": self.bob.pk,
            "app_label": "rooms",
            # accounts/urls.py: preferences/<name>/; attachments/<pk>/<name>: the file's name
            "name": "notes.txt" if route.route.startswith("attachments/") else "theme",
            "uidb36": "1",
            "key": "set-1-key",
            "url": "nowhere/",
            "username": self.bob.username,  # people/<username>/...
        }

    def _admin_object_id(self, route):
        """The pk of a row of the model an admin route is about (admin/<app>/<model>/...)."""
        if "object_id" not in route.parameters or route.name == "view_on_site":
            return self.room.pk
        app_label, model_name = route.route.split("/")[1:3]
        return apps.get_model(app_label, model_name).objects.order_by("pk").first().pk

    def form(self):
        """Fields of every form the project has, filled so that they would be accepted."""
        return {
            "body": "forged",
            "name": "Forged",
            "topic": "forged",
            "is_private": "on",
            "username": "carol",
            "expires": "never",
            "seconds": "30",
            "reason": "forged",
            "post": "yes",
            "action": "delete_messages",
            "index": "0",
            "_selected_action": [self.message.pk, self.bob_message.pk],
            "email": "forged@example.com",
            "login": "bob",
            "password": "a-Long-test-password-42",
            "password1": "a-Long-forged-password-43",
            "password2": "a-Long-forged-password-43",
            "oldpassword": "a-Long-test-password-42",
            "old_password": "a-Long-test-password-42",
            "new_password1": "a-Long-forged-password-43",
            "new_password2": "a-Long-forged-password-43",
        }


@pytest.fixture
def world(db):
    UserFactory(username="carol")
    return World()


def database_state():
    """Every row of every model: what a refused request must leave as it was."""
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in apps.get_models()}


# --- Content Security Policy -----------------------------------------------------------------


class InlineCodeFinder(HTMLParser):
    """What the policy would block, found in a page's markup."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes and attributes.get("type") != "application/json":
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("inline <style>")
        for name, value in attrs:
            if name == "style" or name.startswith(("on", "hx-on", "data-hx-on")):
                self.found.append(f"<{tag} {name}=...>")
            if (value or "").strip().lower().startswith(("javascript:", "js:")):
                self.found.append(f"<{tag} {name}={value!r}>")


def inline_code(html):
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.found


TEMPLATE_COMMENT = re.compile(r"{% comment %}.*?{% endcomment %}|{#.*?#}", re.DOTALL)


# The exported history is one self-contained file read from the disk, where no policy
# applies and no other file can come with it: its <style> is inline on purpose.
SELF_CONTAINED = {"templates/messages_app/export/start.html"}


def test_no_template_holds_inline_code():
    """Fragments that only travel over sockets (new messages, typing, presence) too."""
    templates = [
        path
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if str(path.relative_to(ROOT)) not in SELF_CONTAINED
    ]
    found = {
        str(path.relative_to(ROOT)): inline_code(TEMPLATE_COMMENT.sub("", path.read_text()))
        for path in templates
    }
    assert len(found) > 30
    assert {path: code for path, code in found.items() if code} == {}


def test_every_html_page_has_the_policy_and_nothing_it_would_block(world, settings):
    settings.DEBUG = False  # what production answers, its 404 pages included
    owner = Client()
    owner.force_login(world.owner)
    pages = {}
    # /healthz answers JSON, and its check hands the database connection back to the
    # pool, which would end this test's transaction (tests/test_health.py covers it).
    for route in [route for route in project_routes() if route.name != "healthz"]:
        path = route.path(world.values(route))
        for who, client in (("anonymous", Client()), ("owner", owner)):
            response = client.get(path)
            if response["Content-Type"].startswith("text/html"):
                pages[f"{who} {path} {response.status_code}"] = response

    assert len(pages) > 100
    missing = [page for page, response in pages.items() if response.get("Content-Security-Policy") is None]
    assert missing == []
    assert {response["Content-Security-Policy"] for response in pages.values()} == {CONTENT_SECURITY_POLICY}
    blocked = {page: inline_code(response.content.decode()) for page, response in pages.items()}
    assert {page: found for page, found in blocked.items() if found} == {}


def test_the_policy_allows_only_this_site(client, world):
    client.force_login(world.owner)
    policy = client.get(f"/rooms/{world.room.slug}/")["Content-Security-Policy"]
    directives = dict(directive.split(" ", 1) for directive in policy.split("; "))
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def test_htmx_is_configured_to_inject_no_style_and_eval_nothing(client, world):
    client.force_login(world.owner)
    page = client.get(f"/rooms/{world.room.slug}/").content.decode()
    config = json.loads(re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page).group(1))
    assert config == {"includeIndicatorStyles": False, "allowEval": False, "allowScriptTags": False}


def test_static_files_and_debug_pages_go_without_the_policy(client, world, settings):
    assert "Content-Security-Policy" not in client.get("/static/js/sync.js")
    settings.DEBUG = True  # Django's technical 404 page needs its inline style and script
    assert "Content-Security-Policy" not in client.get("/no-such-page/")
    settings.DEBUG = False
    assert client.get("/no-such-page/")["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_the_policy_header_costs_no_query(client, world, django_assert_max_num_queries):
    """The directory's queries (session, user, public rooms, my rooms) and nothing more."""
    client.force_login(world.owner)
    with django_assert_max_num_queries(4):
        response = client.get("/")
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


# --- CSRF --------------------------------------------------------------------------------------


# RFC 8058's one-click unsubscribe: the mail client POSTs without cookie or token; the
# signed token in the URL is its authority (tests/test_digest.py refuses forged ones).
# An incoming webhook is called by another program, with its secret token in the URL
# as its authority (tests/test_webhooks.py); it sets no cookie and reads none.
CSRF_EXEMPT = {"email_unsubscribe", "webhook_post"}
# The REST API (api/): bearer-token clients send no CSRF token, so ninja's views are exempt
# from the middleware and the API checks CSRF itself for session callers (api/auth.py).
API = "api/"


def is_api(route):
    return route.route.startswith(API) or route.route.startswith(f"^{API}")


def test_no_view_is_exempt_from_csrf():
    exempt = [
        route.name
        for route in project_routes()
        if getattr(route.callback, "csrf_exempt", False) and not is_api(route)
    ]
    assert set(exempt) == CSRF_EXEMPT


def csrf_refused(route, response):
    """403 naming CSRF (the middleware's page; ninja's JSON for the API's session callers).
    An API path that takes no POST may say so first (405), or be no endpoint (404), in JSON."""
    if response.status_code == 403 and b"CSRF" in response.content:
        return True
    is_json = response["Content-Type"].startswith("application/json")
    return is_api(route) and is_json and response.status_code in (404, 405)


def test_every_post_without_a_token_is_refused_and_changes_nothing(world):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(world.owner)
    csrf_client.get("/")  # the CSRF cookie is there, as in a browser: only the token is missing
    before = database_state()

    refused = {}
    for route in project_routes():
        if route.name in CSRF_EXEMPT:
            continue
        path = route.path(world.values(route))
        for headers in ({}, HTMX):
            response = csrf_client.post(path, world.form(), headers=headers)
            refused[f"{path} {headers}"] = csrf_refused(route, response)

    assert len(refused) > 150
    assert [request for request, was_refused in refused.items() if not was_refused] == []
    assert database_state() == before
    assert csrf_client.get("/").status_code == 200  # still logged in: the logout was refused too


def test_the_csrf_refusal_page_works_under_the_policy(world):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(world.owner)
    response = csrf_client.post(f"/rooms/{world.room.slug}/messages/", {"body": "forged"})
    assert response.status_code == 403
    assert "CSRF verification failed" in response.content.decode()
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert inline_code(response.content.decode()) == []


def test_htmx_requests_with_the_token_from_body_hx_headers_succeed(world):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(world.owner)
    page = csrf_client.get(f"/rooms/{world.room.slug}/").content.decode()
    body_headers = json.loads(re.search(r"<body [^>]*hx-headers='([^']+)'", page).group(1))
    headers = {**HTMX, **body_headers}
    assert list(body_headers) == ["X-CSRFToken"]

    invited = csrf_client.post(f"/rooms/{world.room.slug}/invite/", {"username": "carol"}, headers=headers)
    delete_url = f"/rooms/{world.room.slug}/messages/{world.message.pk}/delete/"
    deleted = csrf_client.post(delete_url, headers=headers)

    assert invited.status_code == 200 and "carol is now a member" in invited.content.decode()
    assert Membership.objects.filter(room=world.room, user__username="carol").exists()
    assert deleted.status_code == 200 and Message.objects.get(pk=world.message.pk).is_deleted
