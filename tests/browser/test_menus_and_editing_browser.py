"""The room's menus and editing a message, in a real browser (issue 12, points 7 and 8):
Invite people and Room settings open one at a time and close on Escape (the focus back
on their button) or a click beside them; a message is edited from the keyboard as in
Slack (Up in an empty composer, Enter saves, Shift+Enter a new line, Escape cancels);
on a phone or under a finger the message actions are 44 x 44 px targets."""

import pytest
from playwright.sync_api import expect

from messages_app.models import Message
from tests.browser.test_ui_browser import AXE, AXE_PROBLEMS, DESKTOP, PHONE, focused_id, logged_in, open_room
from tests.factories import MembershipFactory, MessageFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

MIN_TARGET_PX = 44


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
    invite, settings = page.locator("#invite-panel"), page.locator("#room-settings")
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
    assert page.evaluate("document.activeElement.closest('#room-settings') !== null")
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
    plain.locator("#room-settings summary").click()
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
    invite, settings = page.locator("#invite-panel"), page.locator("#room-settings")

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
    assert page.evaluate("document.activeElement === document.querySelector('#room-settings summary')")
    page.keyboard.press("Escape")
    expect(tools).to_be_hidden()
    assert errors == []


def test_editing_from_the_keyboard_up_enter_shift_enter_and_escape(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room = RoomFactory()
    me, friend = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    MessageFactory(room=room, author=me, body="an older one of mine")
    mine = MessageFactory(room=room, author=me, body="my last words")
    theirs = MessageFactory(room=room, author=friend, body="the newest, not mine")
    context = logged_in(new_context, asgi_server, me)
    context.add_init_script(path=AXE)
    page = open_room(context, room)
    errors = watch_for_errors(page)
    friend_page = open_room(logged_in(new_context, asgi_server, friend), room)
    composer = page.locator("#composer-body")
    field = page.locator(f"#edit-{mine.pk}")

    def caret():
        return field.evaluate("f => [f.selectionStart, f.selectionEnd, f.value.length]")

    # Up in the empty composer edits my last message (not the newest one, which is not mine),
    # the focus in the form and the cursor at the end.
    composer.focus()
    composer.press("ArrowUp")
    expect(field).to_be_focused()
    expect(field).to_have_value("my last words")
    assert caret() == [13, 13, 13]
    expect(page.locator(".edit-form")).to_have_count(1)
    assert page.evaluate(AXE_PROBLEMS) == []

    # Shift+Enter is a new line; Enter saves: my page, my friend's page and the database.
    field.press_sequentially(" (more)")
    field.press("Shift+Enter")
    field.press_sequentially("and a second line")
    expect(field).to_have_value("my last words (more)\nand a second line")
    field.press("Enter")
    expect(page.locator(".edit-form")).to_have_count(0)
    for shown in (page, friend_page):
        message = shown.locator(f"#message-{mine.pk}")
        expect(message.locator(".body")).to_contain_text("my last words (more)")
        expect(message.locator(".body")).to_contain_text("and a second line")
        expect(message.locator(".edited")).to_be_visible()
    saved = Message.objects.get(pk=mine.pk)
    assert saved.body == "my last words (more)\nand a second line"
    expect(composer).to_be_focused()

    # Escape cancels: the message comes back as it was, nothing saved, nothing sent.
    composer.press("ArrowUp")
    expect(field).to_be_focused()
    assert caret() == [len(saved.body)] * 3
    field.fill("something else entirely")
    field.press("Escape")
    expect(page.locator(".edit-form")).to_have_count(0)
    expect(page.locator(f"#message-{mine.pk} .body")).to_contain_text("and a second line")
    expect(composer).to_be_focused()
    unchanged = Message.objects.get(pk=mine.pk)
    assert (unchanged.body, unchanged.edited_at) == (saved.body, saved.edited_at)
    expect(friend_page.locator(f"#message-{mine.pk} .body")).not_to_contain_text("something else")

    # Up in a composer with a draft only moves the cursor: the draft goes out as a message.
    composer.fill("a draft")
    composer.press("ArrowUp")
    assert composer.evaluate("f => f.selectionStart") == 0
    composer.press("Enter")
    expect(friend_page.locator("#messages > .message").last).to_contain_text("a draft")
    expect(page.locator("#messages > .message").last).to_contain_text("a draft")
    expect(page.locator(".edit-form")).to_have_count(0)
    assert Message.objects.get(pk=theirs.pk).edited_at is None

    # The Edit button opens the same form, the focus in it, the cursor at the end.
    composer.press("ArrowUp")  # empty again: my last message is now "a draft"
    newest_mine = page.locator("#messages > .message.editing")
    expect(newest_mine.locator("textarea")).to_be_focused()
    expect(newest_mine.locator("textarea")).to_have_value("a draft")
    newest_mine.locator("textarea").press("Escape")
    page.locator(f"#message-{mine.pk}").hover()
    page.locator(f"#message-{mine.pk} .edit-button").click()
    expect(field).to_be_focused()
    assert caret() == [len(saved.body)] * 3
    assert errors == []
    asgi_server.assert_clean_log(since=mark)


def test_a_refused_edit_or_report_says_why_in_the_open_form(asgi_server, new_context):
    room = RoomFactory()
    me = MembershipFactory(room=room).user
    mine = MessageFactory(room=room, author=me, body="my words")
    theirs = MessageFactory(room=room, author=MembershipFactory(room=room).user, body="their words")
    page = open_room(logged_in(new_context, asgi_server, me), room)
    errors = watch_for_errors(page)
    page.locator("#composer-body").press("ArrowUp")
    field = page.locator(f"#edit-{mine.pk}")
    expect(field).to_be_focused()
    field.fill("   ")  # `required` lets spaces through; the service refuses them
    page.locator(".edit-form").get_by_role("button", name="Save").click()
    expect(page.locator(".edit-form .error")).to_have_text("Write something before sending.")
    expect(field).to_have_value("   ")
    assert Message.objects.get(pk=mine.pk).body == "my words"

    # A report without a reason, the same way (spaces pass `required`).
    page.locator(".edit-form .cancel-button").click()
    page.locator(f"#message-{theirs.pk}").hover()
    page.locator(f"#message-{theirs.pk} .report-button").click()
    page.locator(f"#report-reason-{theirs.pk}").fill("   ")
    page.locator(f"#report-{theirs.pk}").get_by_role("button", name="Send report").click()
    expect(page.locator(f"#report-{theirs.pk} .error")).to_be_visible()
    assert errors == []


def visible_action_boxes(page, message):
    """The bounding boxes of the actions shown on `message`, by their text."""
    message.hover()
    buttons = message.locator(".message-actions button:visible, .message-actions a:visible")
    expect(buttons.first).to_be_visible()
    return {button.inner_text(): button.bounding_box() for button in buttons.all()}


def assert_touch_sized(boxes, width):
    for name, box in boxes.items():
        assert box["width"] >= MIN_TARGET_PX and box["height"] >= MIN_TARGET_PX, (name, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (name, box)


@pytest.mark.parametrize(
    "screen",
    [
        {"viewport": PHONE},
        {"viewport": {"width": 820, "height": 1000}, "has_touch": True, "is_mobile": True},
    ],
    ids=["phone-360", "touch-tablet"],
)
def test_message_actions_are_44_pixel_targets_on_phones_and_touch_screens(asgi_server, new_context, screen):
    room = RoomFactory()
    owner, member = MembershipFactory(room=room, role="owner").user, MembershipFactory(room=room).user
    MessageFactory(room=room, author=member, body="a message of someone else")
    other = MessageFactory(room=room, author=member, body="and one more")  # one line in a run: short
    mine = MessageFactory(room=room, author=owner, body="a short one")
    context = logged_in(new_context, asgi_server, owner, **screen)
    context.add_init_script(path=AXE)
    page = open_room(context, room)
    errors = watch_for_errors(page)
    width = screen["viewport"]["width"]

    mine_boxes = visible_action_boxes(page, page.locator(f"#message-{mine.pk}"))
    assert set(mine_boxes) == {"Reply", "React", "Edit", "Delete", "Pin"}  # the owner pins
    assert_touch_sized(mine_boxes, width)
    other_boxes = visible_action_boxes(page, page.locator(f"#message-{other.pk}"))
    assert set(other_boxes) == {"Reply", "React", "Delete", "Report", "Pin"}  # the owner moderates
    assert_touch_sized(other_boxes, width)

    # Taller than their short message: shown over the message below, not under it; hidden,
    # they let a tap through.
    report = other_boxes["Report"]
    assert report["y"] + report["height"] > page.locator(f"#message-{mine.pk}").bounding_box()["y"]
    centre = (report["x"] + report["width"] / 2, report["y"] + report["height"] - 2)
    on_top = "([x, y]) => document.elementFromPoint(x, y).closest('.report-button') !== null"
    assert page.evaluate(on_top, centre)
    page.locator("#composer-body").hover()
    assert not page.evaluate(on_top, centre)

    # The edit form's buttons too.
    page.locator(f"#message-{mine.pk}").hover()
    page.locator(f"#message-{mine.pk} .edit-button").click()
    for name in ("Save", "Cancel"):
        box = page.locator(f"#message-{mine.pk}").get_by_role("button", name=name).bounding_box()
        assert box["height"] >= MIN_TARGET_PX and box["width"] >= MIN_TARGET_PX, (name, box)
    page.locator(f"#message-{other.pk}").hover()
    expect(page.locator(f"#message-{other.pk} .message-actions")).to_have_css("opacity", "1")  # faded in
    assert page.evaluate(AXE_PROBLEMS) == []
    assert errors == []


def test_message_actions_stay_small_links_on_a_desktop_with_a_mouse(asgi_server, new_context):
    """The touch sizes are for fingers and phones only: a desktop keeps its quiet links."""
    room = RoomFactory()
    me = MembershipFactory(room=room).user
    mine = MessageFactory(room=room, author=me, body="a message")
    page = open_room(logged_in(new_context, asgi_server, me, viewport=DESKTOP), room)
    boxes = visible_action_boxes(page, page.locator(f"#message-{mine.pk}"))
    assert set(boxes) == {"Reply", "React", "Edit", "Delete"}
    assert all(box["height"] < 30 for box in boxes.values()), boxes
