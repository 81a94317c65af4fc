"""The people picker of a group conversation in the browser (issue 13): from the
sidebar's "+" to a live group, with the keyboard only; the live filter keeps the
ticks and never puts the CSRF token in a URL; the others' sidebars show the group
live with its unread badge. Axe-clean at desktop and phone width, no console error."""

import re

import pytest
from playwright.sync_api import expect

from rooms.models import Room
from tests.browser.test_direct_browser import send
from tests.browser.test_sidebar_browser import AXE, AXE_PROBLEMS, DESKTOP, PHONE, Tabs, room_socket_open
from tests.factories import MembershipFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def tab_to(page, selector, limit=60):
    """Press Tab until `selector` has the focus: proves the keyboard reaches it."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def choice(page, user):
    return page.locator(f'#picker-results input[name="users"][value="{user.username}"]')


def filter_by(page, text):
    """Type into the focused name box (what was there replaced) and wait for the live list."""
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    expect(page.locator("#picker-count")).to_contain_text(f"“{text}”")


def test_a_group_from_the_sidebar_picked_by_keyboard_chats_live(asgi_server, new_context):
    mark = asgi_server.log_mark()
    ann = UserFactory(username="ann", display_name="Ann Lee")
    ben = UserFactory(username="ben", display_name="Ben Okafor")
    cat = UserFactory(username="cat", display_name="Cat Nguyen")
    dan = UserFactory(username="dan", display_name="Dan Brown")
    lobby = RoomFactory(name="Lobby")
    for user in (ann, ben, cat, dan):
        MembershipFactory(room=lobby, user=user)
    ann_tabs, ben_tabs = Tabs(new_context, asgi_server, ann), Tabs(new_context, asgi_server, ben)
    ann_tabs.context.add_init_script(path=AXE)
    requests = []
    ann_tabs.context.on("request", lambda request: requests.append(f"{request.method} {request.url}"))
    ben_page = ben_tabs.open(f"/rooms/{lobby.slug}/")
    room_socket_open(ben_page)
    ann_page = ann_tabs.open(f"/rooms/{lobby.slug}/")
    room_socket_open(ann_page)

    # The sidebar's "+" opens the picker: focus and Enter.
    ann_page.locator("#my-direct-messages").get_by_role("link", name="New conversation").focus()
    ann_page.keyboard.press("Enter")
    expect(ann_page).to_have_url(f"{asgi_server.url}/dm/new/")
    expect(ann_page.get_by_role("heading", level=1)).to_have_text("New conversation")
    for user in (ben, cat, dan):
        expect(choice(ann_page, user)).to_have_count(1)
    expect(choice(ann_page, ann)).to_have_count(0)

    # Filter by a name, tick Ben with Space; filter again: Ben stays first and ticked.
    tab_to(ann_page, "#picker-q")
    filter_by(ann_page, "Ben")
    expect(ann_page.locator("#picker-results .picker-person")).to_have_count(1)
    tab_to(ann_page, f'input[name="users"][value="{ben.username}"]')
    ann_page.keyboard.press("Space")
    expect(choice(ann_page, ben)).to_be_checked()
    ann_page.keyboard.press("Shift+Tab")
    ann_page.keyboard.press("Shift+Tab")
    expect(ann_page.locator("#picker-q")).to_be_focused()
    filter_by(ann_page, "cat")
    # Enter in the name box presses the default button (Filter): the page read again by GET.
    with ann_page.expect_navigation():
        ann_page.keyboard.press("Enter")
    assert re.search(r"/dm/new/\?q=cat&users=ben$", ann_page.url), ann_page.url
    expect(ann_page.locator("#picker-count")).to_contain_text("1 person matches “cat”, 1 picked.")
    expect(ann_page.locator("#picker-results .picker-person")).to_have_count(2)
    expect(choice(ann_page, ben)).to_be_checked()
    expect(choice(ann_page, dan)).to_have_count(0)
    tab_to(ann_page, f'input[name="users"][value="{cat.username}"]')
    ann_page.keyboard.press("Space")
    expect(choice(ann_page, cat)).to_be_checked()
    ann_page.keyboard.press("Tab")
    start = ann_page.get_by_role("button", name="Start conversation")
    expect(start).to_be_focused()

    # Axe-clean with a filter and ticks, at desktop and phone width; nothing wider than a phone.
    problems = {"desktop": ann_page.evaluate(AXE_PROBLEMS)}
    ann_page.set_viewport_size(PHONE)
    problems["phone"] = ann_page.evaluate(AXE_PROBLEMS)
    assert ann_page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert problems == {"desktop": [], "phone": []}
    ann_page.set_viewport_size(DESKTOP)

    ann_page.keyboard.press("Enter")
    expect(ann_page).to_have_url(re.compile(r"/rooms/dm-[0-9a-f]+/$"))
    group = Room.objects.get(kind=Room.Kind.DIRECT)
    assert ann_page.url == f"{asgi_server.url}/rooms/{group.slug}/"
    assert set(group.memberships.values_list("user__username", flat=True)) == {"ann", "ben", "cat"}
    room_socket_open(ann_page)
    heading = ann_page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Ben Okafor")
    expect(heading).to_contain_text("Cat Nguyen")

    # The live filter asked by GET, and no URL ever carried the CSRF token.
    assert any(re.match(rf"GET {re.escape(asgi_server.url)}/dm/new/\?.*q=cat", url) for url in requests)
    assert [url for url in requests if "csrfmiddlewaretoken" in url] == []

    # Ben's sidebar shows the group live, then its unread badge.
    ben_link = ben_page.locator(f'#my-direct-links a[data-room="{group.slug}"]')
    expect(ben_link.locator(".room-name")).to_contain_text("Ann Lee")
    expect(ben_link.locator(".room-name")).to_contain_text("Cat Nguyen")
    send(ann_page, "hello you two")
    expect(ben_link).to_have_attribute("data-unread", "1")
    expect(ben_link.locator(".badge")).to_contain_text("1")

    ben_link.click()
    expect(ben_page).to_have_url(f"{asgi_server.url}/rooms/{group.slug}/")
    room_socket_open(ben_page)
    expect(ben_page.locator("#messages")).to_contain_text("hello you two")
    send(ben_page, "hi ann, hi cat")
    expect(ann_page.locator("#messages")).to_contain_text("hi ann, hi cat")

    assert ann_tabs.problems == [] and ben_tabs.problems == []
    asgi_server.assert_clean_log(mark)
