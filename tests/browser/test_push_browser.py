"""The device switch of Web Push in Chromium (static/js/push.js, templates/notifications/sw.js):
it says so when the server has no VAPID key, offers to turn notifications on when it has
one, asks for permission only on a click, registers the service worker from the site's
root, and tells a reader whose browser blocks notifications. (Headless Chromium has no
push service to subscribe to: the subscription and the pushes themselves are proven in
tests/test_push.py against a push service on loopback.)"""

import pytest
from playwright.sync_api import expect

from notifications.push import vapid_keys_generate
from tests.browser.helpers import logged_in_context
from tests.factories import MembershipFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def push_server_process(asgi_server_factory):
    """A server with a VAPID key pair (the session's shared server has none)."""
    keys = vapid_keys_generate()
    env = {"VAPID_PUBLIC_KEY": keys["public_key"], "VAPID_PRIVATE_KEY": keys["private_key"]}
    return asgi_server_factory("push", env=env)


def room_page(new_context, server, *, permissions=()):
    room = RoomFactory(name="Pushed")
    user = MembershipFactory(room=room).user
    context = logged_in_context(new_context, server, user)
    context.set_default_timeout(TIMEOUT_MS)
    if permissions:
        context.grant_permissions(list(permissions), origin=server.url)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.goto(f"/rooms/{room.slug}/")
    page.locator("#room-notifications summary").click()  # the room menu's Notifications
    return page, problems


def control(page):
    return page.locator("[data-push-control]")


def test_without_a_vapid_key_the_switch_says_push_is_off_and_still_asks_for_the_pages_notices(
    asgi_server, new_context
):
    page, problems = room_page(new_context, asgi_server)
    expect(control(page).locator("[data-push-state]")).to_have_text(
        "Push notifications are not set up on this server."
    )
    # The page's own notifications (js/notify.js) still need the permission: asked on a click.
    ask = control(page).locator("[data-push-toggle]")
    expect(ask).to_have_text("Show notifications while the site is open")
    assert page.evaluate("Notification.permission") == "default"  # never asked on load
    granted, _ = room_page(new_context, asgi_server, permissions=["notifications"])
    expect(control(granted).locator("[data-push-state]")).to_have_text(
        "Push is not set up on this server; notifications show while the site is open."
    )
    expect(control(granted).locator("[data-push-toggle]")).to_be_hidden()
    assert problems == []


def test_with_a_key_the_switch_offers_push_and_registers_the_service_worker(push_server_process, new_context):
    page, problems = room_page(new_context, push_server_process, permissions=["notifications"])
    switch = control(page)
    expect(switch.locator("[data-push-state]")).to_have_text("Notifications are off for this device.")
    button = switch.locator("[data-push-toggle]")
    expect(button).to_have_text("Turn on notifications on this device")
    button.click()
    # Registered from the root, whatever became of the subscription (no push service here).
    scope = page.evaluate("navigator.serviceWorker.ready.then((registration) => registration.scope)")
    assert scope == f"{push_server_process.url}/"
    expect(switch.locator("[data-push-state]")).not_to_have_text("Notifications are off for this device.")
    assert [problem for problem in problems if "Content Security Policy" in problem] == []


def test_a_browser_that_blocks_notifications_is_named_as_the_reason(push_server_process, new_context):
    page, problems = room_page(new_context, push_server_process)
    # Chromium headless answers a permission request of a page with no grant by denying it.
    switch = control(page)
    expect(switch.locator("[data-push-toggle]")).to_be_visible()
    switch.locator("[data-push-toggle]").click()
    expect(switch.locator("[data-push-state]")).to_contain_text("blocked by the browser")
    assert problems == []
