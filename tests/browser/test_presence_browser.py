"""Presence and "… is typing" in two real browsers: what chat.js does with the
shared fragments (the typist's own page drops their line; a line goes when
their message arrives, or by itself a few seconds later)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import logged_in_context
from tests.factories import MembershipFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000
ABSENT_MS = 500  # to see that something is not there (and does not come)
TYPING_SHOWN_MS = 6000  # as in chat.js


def logged_in_page(new_context, server, user):
    page = logged_in_context(new_context, server, user).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.clock.install()  # time flows as usual until a test fast-forwards it
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def open_room(page, room):
    page.goto(room.get_absolute_url())
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1, timeout=TIMEOUT_MS)


def member(page, user):
    return page.locator(f'#members li[data-user="{user.pk}"]')


def typing_line(page, user):
    return page.locator(f'#typing [data-user="{user.pk}"]')


def test_presence_and_typing_as_two_people_see_them(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room = RoomFactory()
    alice, bob = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    alice_page, alice_errors = logged_in_page(new_context, asgi_server, alice)
    bob_page, bob_errors = logged_in_page(new_context, asgi_server, bob)

    open_room(bob_page, room)
    expect(member(bob_page, alice)).not_to_have_class(re.compile("present"), timeout=TIMEOUT_MS)
    open_room(alice_page, room)
    expect(member(bob_page, alice)).to_have_class(re.compile("present"), timeout=TIMEOUT_MS)
    expect(member(alice_page, bob)).to_have_class(re.compile("present"), timeout=TIMEOUT_MS)

    # Each sees the other typing, never themselves.
    alice_page.locator("#composer-body").press_sequentially("hel")
    expect(typing_line(bob_page, alice)).to_have_text(f"{alice.username} is typing…", timeout=TIMEOUT_MS)
    bob_page.locator("#composer-body").press_sequentially("hi")
    expect(typing_line(alice_page, bob)).to_have_text(f"{bob.username} is typing…", timeout=TIMEOUT_MS)
    # Alice's own line reached her page before bob's did, and was dropped.
    expect(typing_line(alice_page, alice)).to_have_count(0, timeout=ABSENT_MS)

    # Alice's message takes her line away at once, well before it would expire.
    alice_page.locator("#composer-body").press_sequentially("lo")
    alice_page.locator("#composer-body").press("Enter")
    expect(bob_page.locator("#messages")).to_contain_text("hello", timeout=TIMEOUT_MS)
    expect(typing_line(bob_page, alice)).to_have_count(0, timeout=ABSENT_MS)

    # Bob stops typing: his line goes by itself a few seconds later.
    alice_page.clock.fast_forward(3000)
    expect(typing_line(alice_page, bob)).to_have_count(1)
    alice_page.clock.fast_forward(TYPING_SHOWN_MS - 3000 + 1000)
    expect(typing_line(alice_page, bob)).to_have_count(0, timeout=TIMEOUT_MS)

    # Alice leaves: bob sees her go.
    alice_page.close()
    expect(member(bob_page, alice)).not_to_have_class(re.compile("present"), timeout=TIMEOUT_MS)
    expect(member(bob_page, bob)).to_have_class(re.compile("present"), timeout=TIMEOUT_MS)

    # Rosters from several server processes may arrive out of order: an older one changes nothing.
    roster = '<div id="presence" hidden data-version="{}" data-present="{} {}" hx-swap-oob="true"></div>'
    swap_in = "html => htmx.swap('#typing', html, {swapStyle: 'beforeend'})"
    bob_page.evaluate(swap_in, roster.format(1, alice.pk, bob.pk))
    expect(member(bob_page, alice)).not_to_have_class(re.compile("present"))
    bob_page.evaluate(swap_in, roster.format(2**53 - 1, alice.pk, bob.pk))
    expect(member(bob_page, alice)).to_have_class(re.compile("present"))
    assert alice_errors == [] and bob_errors == []
    asgi_server.assert_clean_log(since=mark)
