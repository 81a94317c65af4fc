"""Direct conversations in the browser (issue 13, points 4, 5 and 7): "Message" in a
room's member list opens the conversation, both people chat live, the other person's
sidebar shows it live under Direct messages with an unread badge; a block folds the
blocked person's messages in a shared room until shown. Axe-clean, no console error."""

import re

import pytest
from playwright.sync_api import expect

from rooms.models import Room
from tests.browser.test_sidebar_browser import AXE, AXE_PROBLEMS, PHONE, Tabs, room_socket_open
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def send(page, text):
    composer = page.locator("#composer-body")
    composer.fill(text)
    composer.press("Enter")
    expect(composer).to_have_value("")


def member_menu(page, user):
    """The member's own menu (Message, Block) in the room's member list, opened."""
    actions = page.locator(f'.member-list li[data-user="{user.pk}"] .person-actions')
    actions.locator("summary").click()
    return actions.locator(".person-actions-menu")


def test_message_a_member_and_chat_live_both_ways(asgi_server, new_context):
    mark = asgi_server.log_mark()
    ann, ben = UserFactory(username="ann"), UserFactory(username="ben")
    lobby = RoomFactory(name="Lobby")
    for user in (ann, ben):
        MembershipFactory(room=lobby, user=user)
    ann_tabs, ben_tabs = Tabs(new_context, asgi_server, ann), Tabs(new_context, asgi_server, ben)
    ann_tabs.context.add_init_script(path=AXE)
    ben_page = ben_tabs.open(f"/rooms/{lobby.slug}/")
    room_socket_open(ben_page)
    expect(ben_page.locator("#my-direct-links .empty")).to_be_visible()
    ann_page = ann_tabs.open(f"/rooms/{lobby.slug}/")
    room_socket_open(ann_page)
    expect(ann_page.locator(f'.member-list li[data-user="{ann.pk}"] .person-actions')).to_be_hidden()

    member_menu(ann_page, ben).get_by_role("button", name="Message").click()
    expect(ann_page).to_have_url(re.compile(r"/rooms/dm-[0-9a-f]+/$"))
    dm = Room.objects.get(kind=Room.Kind.DIRECT)
    assert ann_page.url == f"{asgi_server.url}/rooms/{dm.slug}/"
    room_socket_open(ann_page)
    expect(ann_page.get_by_role("heading", level=1)).to_have_text("Direct conversation with ben")
    own_link = ann_page.locator(f'#my-direct-links a[data-room="{dm.slug}"]')
    expect(own_link).to_have_attribute("aria-current", "page")

    # Ben's sidebar shows the new conversation live, then its unread badge.
    ben_link = ben_page.locator(f'#my-direct-links a[data-room="{dm.slug}"]')
    expect(ben_link.locator(".room-name")).to_have_text("ann")
    send(ann_page, "hello ben, just us")
    expect(ben_link).to_have_attribute("data-unread", "1")
    expect(ben_link.locator(".badge")).to_contain_text("1")

    ben_link.click()
    room_socket_open(ben_page)
    expect(ben_page.locator("#messages")).to_contain_text("hello ben, just us")
    send(ben_page, "hi ann")
    expect(ann_page.locator("#messages")).to_contain_text("hi ann")
    send(ann_page, "see you")
    expect(ben_page.locator("#messages")).to_contain_text("see you")

    assert ann_page.evaluate(AXE_PROBLEMS) == []
    ann_page.set_viewport_size(PHONE)
    assert ann_page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert ann_tabs.problems == [] and ben_tabs.problems == []
    asgi_server.assert_clean_log(mark)


def test_a_blocked_persons_messages_fold_until_shown(asgi_server, new_context):
    mark = asgi_server.log_mark()
    ann, ben = UserFactory(username="ann"), UserFactory(username="ben")
    lobby = RoomFactory(name="Lobby")
    for user in (ann, ben):
        MembershipFactory(room=lobby, user=user)
    MessageFactory(room=lobby, author=ann, body="an old word from ann")
    tabs = Tabs(new_context, asgi_server, ben)
    tabs.context.add_init_script(path=AXE)
    page = tabs.open(f"/rooms/{lobby.slug}/")
    room_socket_open(page)
    page.on("dialog", lambda dialog: dialog.accept())
    member_menu(page, ann).get_by_role("button", name="Block").click()

    room_socket_open(page)  # the page is read again, with ann blocked
    old = page.locator(".message", has_text="an old word from ann")
    expect(old.locator(".body")).to_be_hidden()
    show = page.get_by_role("button", name="Message from a blocked person — show")
    expect(show).to_have_count(1)
    ann_tabs = Tabs(new_context, asgi_server, ann)
    ann_page = ann_tabs.open(f"/rooms/{lobby.slug}/")
    room_socket_open(ann_page)
    send(ann_page, "a new word from ann")  # arrives live: folded too
    expect(show).to_have_count(2)
    expect(page.locator(".message", has_text="a new word from ann").locator(".body")).to_be_hidden()
    show.first.click()
    expect(old.locator(".body")).to_be_visible()
    assert page.evaluate(AXE_PROBLEMS) == []
    expect(member_menu(page, ann).get_by_role("button", name="Unblock")).to_be_visible()

    # No direct conversation either way.
    ann_page.on("dialog", lambda dialog: dialog.accept())
    member_menu(ann_page, ben).get_by_role("button", name="Message").click()
    expect(ann_page.locator(".flash")).to_contain_text("one of you has blocked the other")
    assert not Room.objects.filter(kind=Room.Kind.DIRECT).exists()
    assert tabs.problems == [] and ann_tabs.problems == []
    asgi_server.assert_clean_log(mark)
