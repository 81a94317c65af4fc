"""Reactions in real browsers (issue 16, point 2): one member reacts from the emoji picker
(vendored, its data from our static files, under our Content Security Policy) and another
member's browser shows it live; a click on the chip takes it away again everywhere; quick
reactions work at 360 px; ":shortcode" completes in the composer. Axe-clean, and no
console error (a CSP violation is one) nor failed request on the way."""

import re

import pytest
from playwright.sync_api import expect

from messages_app.models import Reaction
from messages_app.services import message_post, reaction_toggle
from tests.browser.helpers import as_server_code
from tests.browser.test_menus_and_editing_browser import watch_for_errors
from tests.browser.test_ui_browser import AXE, AXE_PROBLEMS, PHONE, logged_in, open_room
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

DATA = "/static/vendor/emoji-picker-element-data-1.8.0/en/emojibase/data.json"
# The emoji data's first load into the browser's IndexedDB (about 430 kB, parsed and
# indexed) takes seconds on a loaded machine.
DATA_LOAD_MS = 20_000


def chip(page, message, emoji):
    return page.locator(f"#reactions-{message.pk} .reaction", has_text=emoji)


def settled(page, message):
    """The pointer off the message and its actions faded out (axe measures a fading
    button's contrast half-way)."""
    page.mouse.move(0, 0)
    expect(page.locator(f"#message-{message.pk} .message-actions")).to_have_css("opacity", "0")


def open_react_menu(page, message):
    article = page.locator(f"#message-{message.pk}")
    article.hover()
    article.locator(".react-button").click()
    menu = page.locator("#react-menu")
    expect(menu).to_be_visible()
    return menu


def test_a_reaction_from_the_picker_appears_in_another_browser_and_goes_away(asgi_server, new_context):
    room = RoomFactory()
    alice = MembershipFactory(room=room, user=UserFactory(display_name="Alice")).user
    bob = MembershipFactory(room=room, user=UserFactory(display_name="Bob")).user
    message = MessageFactory(room=room, author=bob, body="we shipped it")

    alice_context = logged_in(new_context, asgi_server, alice)
    alice_context.add_init_script(path=AXE)
    data_requests = []
    alice_context.on("request", lambda r: r.url.endswith(DATA) and data_requests.append(r.url))
    alice_page = open_room(alice_context, room)
    alice_errors = watch_for_errors(alice_page)
    bob_page = open_room(logged_in(new_context, asgi_server, bob, viewport=PHONE), room)
    bob_errors = watch_for_errors(bob_page)

    menu = open_react_menu(alice_page, message)
    menu.get_by_role("button", name="More…").click()
    picker = menu.locator("emoji-picker")
    picker.get_by_role("combobox").fill("party popper", timeout=DATA_LOAD_MS)
    picker.get_by_role("option", name=re.compile("party popper")).first.click(timeout=DATA_LOAD_MS)

    for page in (alice_page, bob_page):
        expect(chip(page, message, "🎉")).to_have_text(re.compile(r"🎉\s*1"))
        expect(chip(page, message, "🎉")).to_have_attribute("title", "Alice")
    assert data_requests and all(url.startswith(asgi_server.url) for url in data_requests)
    assert list(Reaction.objects.values_list("user", "emoji")) == [(alice.pk, "🎉")]
    # Mine, through alice's viewer.css only: her chip is marked, bob's view of it is not.
    mine = "el => getComputedStyle(el).backgroundColor"
    assert chip(alice_page, message, "🎉").evaluate(mine) != chip(bob_page, message, "🎉").evaluate(mine)
    expect(menu).to_be_hidden()

    # Axe, with the menu and the picker open.
    open_react_menu(alice_page, message).get_by_role("button", name="More…").click()
    expect(picker.get_by_role("combobox")).to_be_visible()
    settled(alice_page, message)
    assert alice_page.evaluate(AXE_PROBLEMS) == []
    alice_page.keyboard.press("Escape")
    expect(menu).to_be_hidden()

    # Toggle off from the chip: gone from both pages.
    chip(alice_page, message, "🎉").click()
    for page in (alice_page, bob_page):
        expect(page.locator(f"#reactions-{message.pk} .reaction")).to_have_count(0)
    assert not Reaction.objects.exists()
    assert alice_errors == [] and bob_errors == []


def test_quick_reactions_at_360_px_and_shortcodes_in_the_composer(asgi_server, new_context):
    room = RoomFactory()
    alice, bob = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    older = MessageFactory(room=room, author=alice, body="from long ago")
    MessageFactory.create_batch(55, room=room, author=alice)  # older is not on the page
    message = MessageFactory(room=room, author=alice, body="lunch?")
    context = logged_in(new_context, asgi_server, bob, viewport=PHONE)
    context.add_init_script(path=AXE)
    page = open_room(context, room)
    errors = watch_for_errors(page)

    menu = open_react_menu(page, message)
    box = menu.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    settled(page, message)
    assert page.evaluate(AXE_PROBLEMS) == []
    menu.get_by_role("button", name="React with 👍").click()
    expect(chip(page, message, "👍")).to_have_text(re.compile(r"👍\s*1"))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Finger-sized, as the other message actions: the React link and the chips.
    page.locator(f"#message-{message.pk}").hover()
    for target in (page.locator(f"#message-{message.pk} .react-button"), chip(page, message, "👍")):
        box = target.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44 and box["x"] + box["width"] <= PHONE["width"], box
    # A reaction to a message this page does not show: its bar has no target, and is
    # dropped without an error (the one after it proves the frame came and went).
    as_server_code(reaction_toggle, room=room, user=alice, message_id=older.pk, emoji="😮")
    as_server_code(reaction_toggle, room=room, user=alice, message_id=message.pk, emoji="😮")
    expect(chip(page, message, "😮")).to_have_count(1)

    # By keyboard: Enter on the React link, Tab to ❤️, Enter; the focus comes back to the link.
    page.locator(f"#message-{message.pk} .react-button").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="React with 👍")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(chip(page, message, "❤️")).to_have_count(1)
    expect(page.locator(f"#message-{message.pk} .react-button")).to_be_focused()

    composer = page.locator("#composer-body")
    composer.fill("")
    composer.press_sequentially("great :tad")
    suggestions = page.locator("#emoji-suggestions")
    expect(suggestions.get_by_role("option").first).to_contain_text(":tada:", timeout=DATA_LOAD_MS)
    assert page.evaluate(AXE_PROBLEMS) == []
    composer.press("Enter")  # picks the suggestion; does not send
    expect(composer).to_have_value("great 🎉")
    expect(suggestions).to_be_hidden()
    composer.press("Enter")
    expect(page.locator("#messages .message .body", has_text="great 🎉")).to_have_count(1)
    assert errors == []


def test_without_javascript_the_react_link_and_the_chips_still_work(asgi_server, new_context):
    room = RoomFactory()
    alice = MembershipFactory(room=room).user
    message = MessageFactory(room=room, author=alice, body="no script here")
    page = logged_in(new_context, asgi_server, alice, java_script_enabled=False).new_page()
    page.goto(f"/rooms/{room.slug}/")

    page.locator(f"#message-{message.pk} .react-button").click()  # a plain link to a page
    page.get_by_label("Or another emoji").fill("not an emoji")
    page.get_by_role("button", name="React", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("one emoji")
    page.get_by_role("button", name="React with 🎉").click()
    expect(page).to_have_url(re.compile(rf"/rooms/{room.slug}/#message-{message.pk}$"))
    expect(chip(page, message, "🎉")).to_have_text(re.compile(r"🎉\s*1"))

    chip(page, message, "🎉").click()  # submits the page's #react-form to the chip's formaction
    expect(page.locator(f"#reactions-{message.pk} .reaction")).to_have_count(0)
    assert not Reaction.objects.exists()


DUPLICATE_IDS = """() => {
  const ids = [...document.querySelectorAll("[id*=reactions], [id*=message-]")].map(e => e.id);
  return ids.filter((id, i) => ids.indexOf(id) !== i);
}"""


def test_the_open_thread_panel_follows_reactions_without_duplicate_ids(asgi_server, new_context):
    room = RoomFactory()
    alice, bob = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    original = as_server_code(message_post, room=room, author=alice, body="the plan")
    as_server_code(message_post, room=room, author=bob, body="sounds good", reply_to=original.pk)
    page = open_room(logged_in(new_context, asgi_server, alice), room)
    errors = watch_for_errors(page)
    page.locator(f"#message-{original.pk} .thread-link").click()
    in_thread = page.locator(f"#thread-reactions-{original.pk}")
    expect(in_thread).to_have_count(1)

    as_server_code(reaction_toggle, room=room, user=bob, message_id=original.pk, emoji="🎉")
    expect(chip(page, original, "🎉")).to_have_text(re.compile(r"🎉\s*1"))
    expect(in_thread.locator(".reaction")).to_have_text(re.compile(r"🎉\s*1"))
    assert page.evaluate(DUPLICATE_IDS) == []

    in_thread.locator(".reaction").click()  # mine too, from the thread
    expect(in_thread.locator(".reaction")).to_have_text(re.compile(r"🎉\s*2"))
    expect(chip(page, original, "🎉")).to_have_text(re.compile(r"🎉\s*2"))
    assert page.evaluate(DUPLICATE_IDS) == []

    # The React link of the thread's copy reacts to the same message.
    copy = page.locator(f"#thread-message-{original.pk}")
    copy.hover()
    copy.locator(".react-button").click()
    page.locator("#react-menu").get_by_role("button", name="React with 👍").click()
    expect(in_thread.locator(".reaction", has_text="👍")).to_have_count(1)
    expect(chip(page, original, "👍")).to_have_count(1)
    assert page.evaluate(DUPLICATE_IDS) == []
    assert Reaction.objects.filter(message=original).count() == 3
    assert errors == []
