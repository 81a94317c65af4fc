"""Abuse limits as a person meets them in a real browser: a message refused by the
rate limit says "slow down" and stays in the composer; logging out in one tab
closes the room's live connection in another and says so."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import logged_in_context
from tests.factories import MembershipFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def limited_server(asgi_server_factory):
    server = asgi_server_factory("browser-limited", env={"CHAT_RATE_LIMIT": "2/60"})
    yield server
    server.stop()


def open_room(context, room):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1)
    return page


def send(page, text):
    composer = page.locator("#composer-body")
    composer.fill(text)
    composer.press("Enter")


def test_a_message_over_the_rate_limit_says_slow_down_and_stays_in_the_composer(limited_server, new_context):
    room = RoomFactory()
    member = MembershipFactory(room=room).user
    page = open_room(logged_in_context(new_context, limited_server, member), room)
    mark = limited_server.log_mark()
    for text in ("first", "second"):
        send(page, text)
        expect(page.locator("#messages")).to_contain_text(text)

    send(page, "third, too soon")

    expect(page.locator("#composer-errors")).to_contain_text("Slow down")
    expect(page.locator("#composer-body")).to_have_value("third, too soon")
    expect(page.locator("#messages")).not_to_contain_text("third, too soon")
    limited_server.assert_clean_log(since=mark)


def test_logging_out_in_another_tab_closes_the_rooms_connection(asgi_server, new_context):
    room = RoomFactory()
    member = MembershipFactory(room=room).user
    context = logged_in_context(new_context, asgi_server, member)
    room_page = open_room(context, room)
    other_tab = context.new_page()
    other_tab.set_default_timeout(TIMEOUT_MS)
    other_tab.goto("/")

    other_tab.get_by_role("button", name="Log out").click()

    expect(room_page.locator(".closed-notice")).to_contain_text("You are logged out")
    expect(room_page.locator('#room[data-socket="closed"]')).to_have_count(1)
    expect(room_page.locator("#composer-body")).to_have_count(0)
