"""Notifications in the page (issue 15 point 2): with the Notification permission
granted, a mention or direct message in a room other than the one in view shows a
desktop notification, and clicking it opens the message; the tab title counts
unread mentions and direct messages ("(2) …") and the favicon gets a badge. A room
muted with the room menu's control (axe-clean) still counts, but shows no notification."""

import re

import pytest
from playwright.sync_api import expect

from messages_app.services import message_post
from rooms.services import direct_conversation_open
from tests.browser.helpers import as_server_code
from tests.browser.test_sidebar_browser import AXE, AXE_PROBLEMS, Tabs, room_socket_open
from tests.factories import MembershipFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Every notification the page creates, recorded as it is handed to the browser's own.
RECORD_NOTIFICATIONS = """() => {
    const Browsers = window.Notification;
    if (!Browsers) return;
    window.notificationsShown = [];
    window.Notification = class extends Browsers {
        constructor(title, options) {
            super(title, options);
            window.notificationsShown.push({title, body: options.body, tag: options.tag});
            window.lastNotification = this;
        }
        static get permission() { return Browsers.permission; }
        static requestPermission() { return Browsers.requestPermission(); }
    };
}"""
SHOWN = "() => window.notificationsShown.map(shown => shown.title + ' | ' + shown.body)"


def test_a_mention_elsewhere_notifies_counts_in_the_title_and_opens_the_message(asgi_server, new_context):
    shown, elsewhere = RoomFactory(name="Shown"), RoomFactory(name="Elsewhere")
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    for room in (shown, elsewhere):
        MembershipFactory(room=room, user=alice)
        MembershipFactory(room=room, user=bob)
    tabs = Tabs(new_context, asgi_server, alice)
    tabs.context.grant_permissions(["notifications"], origin=asgi_server.url)
    tabs.context.add_init_script(script=f"({RECORD_NOTIFICATIONS})()")
    tabs.context.add_init_script(path=AXE)
    page = tabs.open(f"/rooms/{shown.slug}/")
    room_socket_open(page)
    expect(page).to_have_title("Shown · Chat")

    as_server_code(message_post, room=elsewhere, author=bob, body="no mention, no notification")
    as_server_code(message_post, room=elsewhere, author=bob, body="@alice can you review?")
    expect(page).to_have_title("(1) Shown · Chat")
    page.wait_for_function("() => window.notificationsShown.length === 1")
    assert page.evaluate(SHOWN) == ["bob in #Elsewhere | @alice can you review?"]
    expect(page.locator('link[rel="icon"]')).to_have_attribute("href", re.compile(r"^data:image/png"))

    direct = as_server_code(direct_conversation_open, user=bob, others=[alice])
    as_server_code(message_post, room=direct, author=bob, body="lunch?")
    expect(page).to_have_title("(2) Shown · Chat")  # the direct message counts too
    page.wait_for_function("() => window.notificationsShown.length === 2")
    assert page.evaluate(SHOWN)[1] == "bob | lunch?"

    # Reading Elsewhere clears its mention; there the room menu mutes it.
    page.goto(f"/rooms/{elsewhere.slug}/")
    room_socket_open(page)
    page.locator("#room-notifications summary").click()  # on a wide screen, in the room header
    assert page.evaluate(AXE_PROBLEMS) == []  # the room menu with its level control
    with page.expect_response(re.compile(r"/notifications/$")):
        page.get_by_label("Nothing (muted)").check()
    expect(page.locator(".room-level-saved")).to_have_text("Saved.")
    page.goto(f"/rooms/{shown.slug}/")
    room_socket_open(page)
    expect(page).to_have_title("(1) Shown · Chat")  # the direct message is still unread
    as_server_code(message_post, room=elsewhere, author=bob, body="@alice muted, yet counted")
    expect(page).to_have_title("(2) Shown · Chat")  # a muted room's mention still counts
    # The next direct message notifies (the muted mention before it did not), and
    # clicking its notification opens it.
    still = as_server_code(message_post, room=direct, author=bob, body="still there?")
    page.wait_for_function("() => window.notificationsShown.length >= 1")
    assert page.evaluate(SHOWN) == ["bob | still there?"]
    page.evaluate("() => window.lastNotification.onclick()")
    expect(page).to_have_url(re.compile(rf"/rooms/{direct.slug}/\?around={still.pk}#message-{still.pk}$"))
    expect(page.locator(f"#message-{still.pk}")).to_be_visible()
    assert tabs.problems == []
