"""Incoming webhooks in a real browser: the owner goes from the room's settings to its
webhooks page, makes a hook and is shown its URL once (with a copy button); a POST to
that URL from outside makes the message appear live, with the bot badge, in an open
page of the room. The page is axe-clean and fits 360 px; no console errors."""

import json
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from api.models import IncomingWebhook
from rooms.models import Membership
from tests.browser.helpers import logged_in_context
from tests.factories import MembershipFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
AXE_PROBLEMS = """async () => (await axe.run()).violations
    .filter(v => v.impact === "moderate" || v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)"""


@pytest.fixture
def watched(asgi_server, new_context):
    """open(user, viewport) -> a page of `user` watched for console errors and failed requests."""
    mark, problems = asgi_server.log_mark(), []

    def open_page(user, *, viewport=None):
        viewport = viewport or {"width": 1280, "height": 800}
        context = logged_in_context(new_context, asgi_server, user, viewport=viewport)
        context.set_default_timeout(TIMEOUT_MS)
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        context.add_init_script(path=AXE)
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
        return page

    yield open_page
    assert problems == []
    asgi_server.assert_clean_log(since=mark)


def post_to(url, payload):
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def test_the_owner_makes_a_hook_and_its_post_appears_live_with_the_bot_badge(watched, asgi_server):
    room = RoomFactory(name="Builds")
    owner = MembershipFactory(room=room, role=Membership.Role.OWNER).user
    member = MembershipFactory(room=room).user
    theirs = watched(member)
    theirs.goto(f"/rooms/{room.slug}/")
    expect(theirs.locator('#room[data-socket="open"]')).to_have_count(1)

    mine = watched(owner)
    mine.goto(f"/rooms/{room.slug}/")
    mine.locator("#room-settings summary").click()
    mine.get_by_role("link", name="Incoming webhooks").click()
    expect(mine.get_by_role("heading", name="Incoming webhooks")).to_be_visible()
    assert mine.evaluate(AXE_PROBLEMS) == []
    mine.get_by_label("Name of the new webhook").fill("Deploys")
    mine.get_by_role("button", name="Create webhook").click()

    url_field = mine.get_by_label("Webhook URL")
    url = url_field.input_value()
    assert url.startswith(f"{asgi_server.url}/hooks/") and url.endswith("/")
    mine.get_by_role("button", name="Copy").click()
    expect(mine.get_by_role("button", name="Copied")).to_be_visible()
    assert mine.evaluate("navigator.clipboard.readText()") == url
    assert mine.evaluate(AXE_PROBLEMS) == []
    assert IncomingWebhook.objects.get().name == "Deploys"

    mine.goto(f"/rooms/{room.slug}/webhooks/")  # shown once: a fresh look lists the hook, not its URL
    expect(mine.locator(".webhook-list")).to_contain_text("Deploys")
    expect(mine.get_by_label("Webhook URL")).to_have_count(0)
    assert url not in mine.content()

    status, answer = post_to(url, {"text": "Build <b>42</b> passed", "username": "CI"})
    assert status == 200 and answer["ok"]
    message = theirs.locator(f"#message-{answer['message_id']}")
    expect(message.locator(".author")).to_have_text("CI")
    expect(message.locator(".bot-badge")).to_have_text("bot")
    expect(message.locator(".body")).to_have_text("Build <b>42</b> passed")
    assert theirs.evaluate(AXE_PROBLEMS) == []


def test_the_webhooks_page_fits_a_phone_and_revokes_by_keyboard(watched):
    room = RoomFactory(name="Phones")
    owner = MembershipFactory(room=room, role=Membership.Role.OWNER).user
    page = watched(owner, viewport={"width": 360, "height": 740})
    page.goto(f"/rooms/{room.slug}/webhooks/")
    page.get_by_label("Name of the new webhook").fill("A rather long webhook name for phones")
    page.get_by_label("Name of the new webhook").press("Enter")
    expect(page.get_by_label("Webhook URL")).to_be_visible()
    page.wait_for_load_state("load")  # its stylesheets applied before the width is measured
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert page.evaluate(AXE_PROBLEMS) == []

    revoke = page.get_by_role("button", name="Revoke A rather long webhook name for phones")
    revoke.focus()
    revoke.press("Enter")
    expect(page.locator(".webhook-list")).to_contain_text("revoked")
    assert IncomingWebhook.objects.get().revoked_at is not None
