"""The profile in a real browser (issue 13, points 1 and 2): the user menu from the
keyboard, editing the profile with an uploaded avatar, the new name and avatar in a
room (on a page loaded after, and live over the socket), axe-core on the profile page,
and the phone layout."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_ui_browser import AXE, AXE_PROBLEMS, DESKTOP, PHONE, logged_in, open_room, page_width
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def watch_for_problems(context):
    """Console errors and warnings, failed requests and error responses, of every page."""
    problems = []
    context.on("console", lambda m: m.type in ("error", "warning") and problems.append(f"console {m.text}"))
    context.on("requestfailed", lambda r: problems.append(f"failed {r.url} {r.failure}"))
    context.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    context.on("weberror", lambda e: problems.append(f"error {e.error}"))
    return problems


def photo():
    output = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 40, 120)).save(output, "JPEG")
    return output.getvalue()


def tab_to(page, locator, *, most=30):
    """Press Tab until `locator` has the focus (it must be reachable from the keyboard)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError("not reachable with Tab")


def test_edit_profile_from_the_user_menu_and_see_it_in_the_room(asgi_server, new_context):
    room = RoomFactory()
    alice = MembershipFactory(room=room, user=UserFactory(username="alice_p")).user
    bob = MembershipFactory(room=room, user=UserFactory(username="bob_p")).user
    MessageFactory(room=room, author=alice, body="before the new name")
    context = logged_in(new_context, asgi_server, alice)
    context.add_init_script(path=AXE)
    problems = watch_for_problems(context)
    page = open_room(context, room)

    # The user menu, from the keyboard: Tab to it, Enter opens, Escape closes and
    # gives the focus back, Enter again and Tab to Profile, Enter follows it.
    summary = page.locator(".user-menu summary")
    expect(summary).to_contain_text("alice_p")
    tab_to(page, summary)
    page.keyboard.press("Enter")
    items = page.locator(".user-menu-items")
    expect(items).to_be_visible()
    for name in ("Profile", "Email addresses", "Password"):
        expect(items.get_by_role("link", name=name)).to_be_visible()
    page.keyboard.press("Escape")
    expect(items).to_be_hidden()
    assert summary.evaluate("element => element === document.activeElement")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(items.get_by_role("link", name="Profile")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/accounts/profile/$"))
    assert page.evaluate(AXE_PROBLEMS) == []

    page.get_by_label("Display name").fill("Alice Liddell")
    page.get_by_label("Status emoji").fill("🎉")
    page.get_by_label("Status:", exact=True).fill("Down the rabbit hole")
    page.get_by_label("Time zone").select_option("Asia/Tokyo")
    page.get_by_label("Avatar:", exact=True).set_input_files(
        files=[{"name": "me.jpg", "mimeType": "image/jpeg", "buffer": photo()}]
    )
    page.get_by_role("button", name="Save profile").click()

    expect(page.locator(".flash")).to_contain_text("Your profile is saved.")
    expect(page.locator(".profile-name")).to_have_text("Alice Liddell")
    expect(page.locator(".profile-status")).to_contain_text("🎉 Down the rabbit hole")
    expect(page.locator(".local-time")).to_have_text(re.compile(r"^Local time \d\d:\d\d \(Asia/Tokyo\)$"))
    expect(page.locator(".profile-card img.avatar")).to_have_js_property("naturalWidth", 128)
    expect(page.locator(".user-menu summary")).to_contain_text("Alice Liddell")
    expect(page.locator(".user-menu summary img.avatar")).to_have_js_property("naturalWidth", 64)
    assert page.evaluate(AXE_PROBLEMS) == []

    # Bob's page of the room, loaded now: Alice's message and her place in the members.
    bob_context = logged_in(new_context, asgi_server, bob)
    problems += watch_for_problems(bob_context)
    bob_page = open_room(bob_context, room)
    first = bob_page.locator("#messages .message").first
    expect(first.locator(".author")).to_have_text("Alice Liddell")
    expect(first.locator(".author-username")).to_have_text("@alice_p")
    expect(first.locator("img.avatar")).to_have_js_property("naturalWidth", 64)
    expect(bob_page.locator(f'#member-roll li[data-user="{alice.pk}"]')).to_contain_text("Alice Liddell")

    # And a message Alice sends now reaches Bob live, with her new name and avatar.
    room_page = open_room(context, room)
    room_page.locator("#composer-body").fill("after the new name")
    room_page.keyboard.press("Enter")
    live = bob_page.locator("#messages .message", has_text="after the new name")
    expect(live).to_have_count(1)
    expect(live.locator(".author")).to_have_text("Alice Liddell")
    expect(live.locator("img.avatar")).to_have_js_property("naturalWidth", 64)
    assert problems == []


def test_profile_page_and_user_menu_on_a_phone_in_dark_mode(asgi_server, new_context):
    user = UserFactory(username="phone_user", display_name="A Rather Long Display Name For A Phone")
    context = logged_in(new_context, asgi_server, user, viewport=PHONE, color_scheme="dark")
    context.add_init_script(path=AXE)
    problems = watch_for_problems(context)
    page = context.new_page()
    page.goto("/accounts/profile/")
    assert page_width(page) <= PHONE["width"]
    summary = page.locator(".user-menu summary")
    expect(summary).to_be_visible()
    summary.click()
    items = page.locator(".user-menu-items")
    expect(items).to_be_visible()
    box = items.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.mouse.click(5, PHONE["height"] - 5)  # a click elsewhere closes it
    expect(items).to_be_hidden()
    assert page.evaluate(AXE_PROBLEMS) == []
    assert page_width(page) <= PHONE["width"]
    assert problems == []


def test_a_refused_picture_shows_its_error_in_the_page(asgi_server, new_context):
    user = UserFactory()
    context = logged_in(new_context, asgi_server, user, viewport=DESKTOP)
    page = context.new_page()
    page.goto("/accounts/profile/")
    page.get_by_label("Avatar:", exact=True).set_input_files(
        files=[{"name": "cat.png", "mimeType": "image/png", "buffer": b"definitely not a png"}]
    )
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator(".errorlist")).to_contain_text("This file is not a picture we can read")
    expect(page.locator(".profile-card img")).to_have_count(0)  # still the initials
