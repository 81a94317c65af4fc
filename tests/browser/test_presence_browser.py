"""Presence and "… is typing" in two real browsers, with no JavaScript of the app's
own: htmx sends typing frames, the server decides what each page shows (never the
typist's own line; one line per person, gone when their message arrives), and CSS
hides a line by itself a few seconds later."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import logged_in_context
from tests.factories import MembershipFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000
ABSENT_MS = 500  # to see that something is not there (and does not come)
TYPING_SHOWN_MS = 6000  # as in chat.css


def logged_in_page(new_context, server, user):
    page = logged_in_context(new_context, server, user).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def open_room(page, room):
    page.goto(room.get_absolute_url())
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1, timeout=TIMEOUT_MS)


def here_now(page, user):
    return page.locator(f'#members #presence li[data-user="{user.pk}"]')


def typing_line(page, user):
    return page.locator(f"#typing #typing-{user.pk}")


def test_presence_and_typing_as_two_people_see_them(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room = RoomFactory()
    alice, bob = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    alice_page, alice_errors = logged_in_page(new_context, asgi_server, alice)
    bob_page, bob_errors = logged_in_page(new_context, asgi_server, bob)

    open_room(bob_page, room)
    expect(here_now(bob_page, alice)).to_have_count(0)
    open_room(alice_page, room)
    expect(here_now(bob_page, alice)).to_contain_text(alice.username)
    expect(here_now(alice_page, bob)).to_contain_text(bob.username)

    # Each sees the other typing, never themselves.
    alice_page.locator("#composer-body").press_sequentially("hel")
    expect(typing_line(bob_page, alice)).to_have_text(f"{alice.username} is typing…")
    expect(typing_line(bob_page, alice)).to_be_visible()
    bob_page.locator("#composer-body").press_sequentially("hi")
    expect(typing_line(alice_page, bob)).to_be_visible()
    expect(typing_line(alice_page, alice)).to_have_count(0, timeout=ABSENT_MS)

    # Alice's message takes her line away at once, well before it would go by itself.
    alice_page.locator("#composer-body").press_sequentially("lo")
    alice_page.locator("#composer-body").press("Enter")
    expect(bob_page.locator("#messages")).to_contain_text("hello")
    expect(typing_line(bob_page, alice)).to_be_hidden(timeout=ABSENT_MS)

    # Bob stops typing: his line goes by itself a few seconds later...
    expect(typing_line(alice_page, bob)).to_be_hidden(timeout=TYPING_SHOWN_MS + 2000)
    # ...and when he types again it is back, still one line.
    bob_page.locator("#composer-body").press_sequentially(" there")
    expect(typing_line(alice_page, bob)).to_be_visible()
    expect(alice_page.locator(f'#typing [data-user="{bob.pk}"]')).to_have_count(1)
    alice_page.wait_for_timeout(TYPING_SHOWN_MS / 2)
    expect(typing_line(alice_page, bob)).to_be_visible()

    # Alice leaves: bob sees her go.
    alice_page.close()
    expect(here_now(bob_page, alice)).to_have_count(0)
    expect(here_now(bob_page, bob)).to_have_count(1)
    assert alice_errors == [] and bob_errors == []
    asgi_server.assert_clean_log(since=mark)
