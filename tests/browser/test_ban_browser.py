"""A ban and its lifting, as the banned member's browser shows them: the notice in
place of the room (no history, composer or "Here now"), a styled 403 page after a
reload with the reason and the way back, and the room back live, without a reload,
when the ban is lifted (messages_app/ban_watch.py)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from messages_app import moderation
from messages_app.models import ModerationAction
from tests.browser.helpers import as_server_code, logged_in_context
from tests.browser.watch import ProblemWatch
from tests.factories import MembershipFactory, MessageFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000
PAGE = ModerationAction.Source.PAGE
ERROR_BACKGROUND = "rgb(253, 236, 234)"  # --error-bg in chat.css (light)
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
AXE_PROBLEMS = """async () => (await axe.run()).violations
    .filter(v => v.impact === "moderate" || v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)"""


def member_page(new_context, server, user):
    context = logged_in_context(new_context, server, user, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(path=AXE)
    return context.new_page(), ProblemWatch(context, user.username)


def wait_for_open_socket(page):
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1)


def assert_banned_notice(page, room):
    notice = page.locator(".banned-notice")
    expect(notice).to_contain_text(f"You have been banned from {room.name}.")
    expect(notice).to_contain_text("Reason: spamming links")
    expect(notice.get_by_role("link", name="Back to all rooms")).to_have_attribute("href", "/")
    assert notice.evaluate("n => getComputedStyle(n).backgroundColor") == ERROR_BACKGROUND
    room_link = f'#sidebar a[data-room="{room.slug}"]'
    for gone in ("#messages", "#composer-body", "#presence", "#members", room_link):
        expect(page.locator(gone)).to_have_count(0)
    expect(page.get_by_text("Here now")).to_have_count(0)
    expect(page.get_by_text("the history before the ban")).to_have_count(0)
    # Its socket waits for the ban to be lifted.
    expect(page.locator('#ban-watch[data-socket="open"]')).to_have_count(1)
    assert page.evaluate(AXE_PROBLEMS) == []


def assert_room_back_without_reload(page, room, user):
    wait_for_open_socket(page)
    assert page.evaluate("window.sameDocument") is True, "the page was reloaded"
    expect(page.locator("#messages")).to_contain_text("the history before the ban")
    expect(page.locator(f'#presence li[data-user="{user.pk}"]')).to_have_count(1)
    expect(page.locator(f'#sidebar a[data-room="{room.slug}"]')).to_have_count(1)
    expect(page.locator(".banned-notice")).to_have_count(0)


def test_ban_hides_the_room_a_reload_shows_a_styled_403_and_unban_brings_it_back_live(
    asgi_server, new_context
):
    mark = asgi_server.log_mark()
    room = RoomFactory(name="The Lounge")
    elsewhere = RoomFactory(name="Elsewhere")
    owner = MembershipFactory(room=room, role="owner").user
    member = MembershipFactory(room=room).user
    MembershipFactory(room=elsewhere, user=member)
    MessageFactory(room=room, author=owner, body="the history before the ban")
    page, watch = member_page(new_context, asgi_server, member)

    def ban():
        as_server_code(
            moderation.member_ban, room=room, user=member, actor=owner, source=PAGE, reason="spamming links"
        )

    def unban():
        page.evaluate("window.sameDocument = true")
        as_server_code(moderation.member_unban, room=room, user=member, actor=owner, source=PAGE)

    # Banned while the room is open: the notice takes the room's place, live.
    page.goto(room.get_absolute_url())
    wait_for_open_socket(page)
    expect(page.locator("#presence")).to_contain_text("Here now")
    ban()
    assert_banned_notice(page, room)
    unban()
    assert_room_back_without_reload(page, room, member)
    page.locator("#composer-body").fill("back again")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#messages > .message").last).to_contain_text("back again")

    # Banned, then reloaded: the room's banned page, a 403 in the app's layout.
    ban()
    expect(page.locator(".banned-notice")).to_have_count(1)
    watch.expect_status(403, re.escape(room.get_absolute_url()) + "$")
    response = page.reload()
    assert response.status == 403
    expect(page).to_have_title(f"Banned from {room.name} · Chat")
    expect(page.locator(".topbar .brand")).to_be_visible()
    expect(page.locator('#sidebar a[data-room="' + elsewhere.slug + '"]')).to_have_count(1)
    assert_banned_notice(page, room)
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    expect(page.locator(".banned-notice")).to_be_in_viewport()
    page.set_viewport_size({"width": 1280, "height": 800})
    unban()
    assert_room_back_without_reload(page, room, member)

    # The way back to the directory.
    ban()
    page.locator(".banned-notice").get_by_role("link", name="Back to all rooms").click()
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("link", name="Elsewhere").first).to_be_visible()

    watch.assert_clean()
    asgi_server.assert_clean_log(since=mark)
