"""The room's menus in a real browser (issue 12, point 7): Invite people and Room
settings open one at a time and close on Escape (the focus back on their button) or a
click beside them."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_ui_browser import AXE, AXE_PROBLEMS, PHONE, focused_id, logged_in
from tests.factories import MembershipFactory, MessageFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)


def watch_for_errors(page):
    """Console errors (CSP violations among them), uncaught exceptions and failed requests."""
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: errors.append(f"{request.url} {request.failure}"))
    return errors


def is_open(menu):
    return menu.evaluate("details => details.open")


def test_the_room_menus_open_one_at_a_time_and_close_on_escape_or_a_click_beside(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room = RoomFactory()
    owner = MembershipFactory(room=room, role="owner").user
    MessageFactory(room=room, author=owner, body="something to click beside")
    page = logged_in(new_context, asgi_server, owner).new_page()
    errors = watch_for_errors(page)
    page.goto(f"/rooms/{room.slug}/")
    invite, settings = page.locator("#invite-panel"), page.locator("details.room-settings")
    invite_button, settings_button = invite.locator("summary"), settings.locator("summary")

    # Invite, then Settings: only Settings stays open (they used to lie over each other).
    invite_button.click()
    expect(page.get_by_label("Add someone by username")).to_be_visible()
    settings_button.click()
    expect(page.get_by_label("Slow mode: one message per member every")).to_be_visible()
    expect(page.get_by_label("Add someone by username")).to_be_hidden()
    assert not is_open(invite) and is_open(settings)

    # Escape from inside the open menu closes it, the focus back on its button.
    page.get_by_label("Slow mode: one message per member every").focus()
    page.keyboard.press("Escape")
    expect(page.get_by_label("Slow mode: one message per member every")).to_be_hidden()
    assert page.evaluate("document.activeElement.closest('details.room-settings') !== null")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"

    # From the keyboard alone: Shift+Tab to Invite people, Enter opens it, Escape from its field.
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.closest('#invite-panel') !== null")
    page.keyboard.press("Enter")
    expect(page.get_by_label("Add someone by username")).to_be_visible()
    page.keyboard.press("Tab")
    assert focused_id(page) == "invite-username"
    page.keyboard.press("Escape")
    expect(page.get_by_label("Add someone by username")).to_be_hidden()
    assert page.evaluate("document.activeElement === document.querySelector('#invite-panel summary')")

    # A click beside an open menu closes it.
    settings_button.click()
    assert is_open(settings)
    page.locator("#messages .message .body").first.click()
    expect(page.get_by_label("Slow mode: one message per member every")).to_be_hidden()

    # Still open after an invitation goes through (htmx swaps the panel), and still exclusive.
    invite_button.click()
    page.get_by_label("Add someone by username").fill("nobody-by-that-name")
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.locator("#invite-username-errors")).to_contain_text("nobody-by-that-name")
    assert is_open(invite)
    settings_button.click()
    expect(page.locator("#invite-username")).to_be_hidden()
    assert errors == []
    asgi_server.assert_clean_log(since=mark)

    # One at a time is the browser's own (<details name>): it holds without JavaScript.
    plain = logged_in(new_context, asgi_server, owner, java_script_enabled=False).new_page()
    plain.goto(f"/rooms/{room.slug}/")
    plain.locator("#invite-panel summary").click()
    plain.locator("details.room-settings summary").click()
    expect(plain.get_by_label("Slow mode: one message per member every")).to_be_visible()
    expect(plain.get_by_label("Add someone by username")).to_be_hidden()


def test_on_a_phone_the_menus_close_one_at_a_time_inside_the_room_menu(asgi_server, new_context):
    room = RoomFactory()
    owner = MembershipFactory(room=room, role="owner").user
    context = logged_in(new_context, asgi_server, owner, viewport=PHONE)
    context.add_init_script(path=AXE)
    page = context.new_page()
    errors = watch_for_errors(page)
    page.goto(f"/rooms/{room.slug}/")
    tools = page.locator("#room-tools")
    invite, settings = page.locator("#invite-panel"), page.locator("details.room-settings")

    page.locator('.panel-toggle[popovertarget="room-tools"]').click()
    invite.locator("summary").click()
    expect(page.get_by_label("Add someone by username")).to_be_in_viewport()
    settings.locator("summary").click()
    expect(page.get_by_label("Slow mode: one message per member every")).to_be_in_viewport()
    expect(page.get_by_label("Add someone by username")).to_be_hidden()
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert page.evaluate(AXE_PROBLEMS) == []

    # Escape closes the menu first and leaves the room menu (a popover) open; then that one.
    page.get_by_label("Slow mode: one message per member every").focus()
    page.keyboard.press("Escape")
    expect(page.get_by_label("Slow mode: one message per member every")).to_be_hidden()
    expect(tools).to_be_visible()
    assert page.evaluate("document.activeElement === document.querySelector('details.room-settings summary')")
    page.keyboard.press("Escape")
    expect(tools).to_be_hidden()
    assert errors == []
