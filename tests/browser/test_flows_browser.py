"""Every main flow, walked by two people in two browsers, must leave no console error,
page error, failed request or unexpected HTTP error behind (tests/browser/watch.py):
sign up, create a room, read it, join, chat, edit, delete, search, invite, ban, unban."""

import re
import uuid

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from messages_app.models import Message
from rooms.models import Membership
from tests.browser.watch import ProblemWatch
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 800}


def person(new_context, server, name):
    context = new_context(base_url=server.url, viewport=DESKTOP)
    context.set_default_timeout(TIMEOUT_MS)
    watch = ProblemWatch(context, name)
    return context.new_page(), watch


def sign_up(page, username):
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.locator(".whoami")).to_contain_text(username)


def wait_for_open_socket(page):
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1)


def create_room(page, name, *, private=False):
    page.goto("/rooms/new/")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Topic").fill(f"all about {name}")
    if private:
        page.get_by_label("Private").check()
    page.get_by_role("button", name="Create room").click()
    expect(page.locator("#room h1")).to_contain_text(name)
    wait_for_open_socket(page)
    return re.sub(r"^https?://[^/]+", "", page.url)


def send(page, body):
    page.locator("#composer-body").fill(body)
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#messages > .message").last).to_contain_text(body)


def message(page, body):
    return page.locator("#messages > .message", has_text=body)


def wait_until_read(page, username, room, read):
    """Until the page has marked the room read up to `read` (a round trip over its socket)."""
    for _ in range(TIMEOUT_MS // 50):
        membership = Membership.objects.get(room=room, user__username=username)
        if membership.last_read_message_id == read.pk:
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"{username} never marked {room.slug} read up to {read.pk}")


def moderate(page, username, action_name):
    row = page.locator("#member-roll li", has_text=username)
    row.locator(".member-actions summary").click()
    row.get_by_role("button", name=action_name).click()


def test_two_people_walk_every_flow_without_a_console_error_or_failed_request(asgi_server, new_context):
    mark = asgi_server.log_mark()
    tag = uuid.uuid4().hex[:6]
    alice, alice_watch = person(new_context, asgi_server, "alice")
    bob, bob_watch = person(new_context, asgi_server, "bob")
    for page in (alice, bob):
        page.on("dialog", lambda dialog: dialog.accept("flooding the room"))

    def done(flow):
        """Problems are reported with the flow that caused them."""
        for watch in (alice_watch, bob_watch):
            watch.assert_clean(flow)

    # Sign up, and a public room that Bob first reads, then joins.
    sign_up(alice, f"alice{tag}")
    sign_up(bob, f"bob{tag}")
    done("sign up")
    lounge = create_room(alice, f"Lounge {tag}")
    send(alice, "welcome to the lounge")
    done("create a room")
    bob.goto("/")
    bob.get_by_role("link", name=f"Lounge {tag}").first.click()
    expect(bob.get_by_role("button", name="Join room")).to_be_visible()
    expect(message(bob, "welcome to the lounge")).to_have_count(1)
    done("read a room before joining")
    bob.get_by_role("button", name="Join room").click()
    wait_for_open_socket(bob)
    done("join")

    # Chat both ways: what Bob reads is marked read (which updates his sidebar's badge).
    welcome = Message.objects.get(body="welcome to the lounge")
    send(alice, "are you there?")
    expect(message(bob, "are you there?")).to_have_count(1)
    wait_until_read(bob, f"bob{tag}", welcome.room, Message.objects.latest("id"))
    send(bob, "hello alice")  # after the read mark's frame on Bob's socket
    expect(message(alice, "hello alice")).to_have_count(1)
    done("chat")

    # Edit and delete.
    send(alice, "a typo hree")
    expect(message(bob, "a typo hree")).to_have_count(1)
    typo = message(alice, "a typo hree")
    typo.hover()
    typo.get_by_role("button", name="Edit").click()
    alice.locator(".edit-form textarea").fill("a typo here")
    alice.locator(".edit-form").get_by_role("button", name="Save").click()
    expect(message(bob, "a typo here")).to_contain_text("(edited)")
    done("edit")
    send(alice, "never mind this one")
    regret = message(alice, "never mind this one")
    regret.hover()
    regret.get_by_role("button", name="Delete").click()
    expect(bob.locator("#messages > .message").last).to_contain_text("message deleted")
    done("delete")

    # Search: in the room, and across rooms; a result opens the room around it.
    bob.locator("#room-search").fill("typo")
    bob.locator("#room-search").press("Enter")
    expect(bob.locator("main")).to_contain_text("a typo here")
    bob.locator("main a", has_text="a typo here").first.click()
    expect(bob.locator("#messages .message.highlighted")).to_contain_text("a typo here")
    # Its scripts loaded before the next search leaves it (else the test aborts their requests).
    bob.wait_for_load_state("load")
    bob.locator("#top-search").fill("welcome")
    bob.locator("#top-search").press("Enter")
    expect(bob.locator("main")).to_contain_text("welcome to the lounge")
    bob.wait_for_load_state("load")
    bob.goto(lounge)
    wait_for_open_socket(bob)
    done("search")

    # Invite Bob by name to a private room: he finds it in his rooms and chats there.
    den = create_room(alice, f"Den {tag}", private=True)
    alice.locator("#invite-panel summary").click()
    alice.get_by_label("Add someone by username").fill(f"bob{tag}")
    alice.get_by_role("button", name="Invite", exact=True).click()
    expect(alice.locator("#invite-panel .notice")).to_contain_text(f"bob{tag}")
    alice.get_by_role("button", name="Create link").click()
    expect(alice.locator("#invite-panel .invite-url")).to_have_count(1)
    bob.goto("/")
    bob.locator(f'#my-room-links a[href="{den}"]').click()
    wait_for_open_socket(bob)
    send(bob, "cosy in here")
    expect(message(alice, "cosy in here")).to_have_count(1)
    done("invite")

    # Ban Bob from the lounge (with a reason), then reload his page of it: an expected 403.
    bob.goto(lounge)
    wait_for_open_socket(bob)
    alice.goto(lounge)
    wait_for_open_socket(alice)
    moderate(alice, f"bob{tag}", "Ban")
    expect(alice.locator("#member-roll")).not_to_contain_text(f"bob{tag}")
    expect(bob.locator(".banned-notice")).to_contain_text("flooding the room")
    done("ban")
    bob_watch.expect_status(403, re.escape(lounge) + "$")
    bob.reload()
    expect(bob.locator(".banned-notice")).to_contain_text("flooding the room")
    done("reload when banned")

    # Unban from the admin (Alice is staff too): Bob's page of the lounge comes back.
    get_user_model().objects.filter(username=f"alice{tag}").update(is_staff=True, is_superuser=True)
    alice.goto("/admin/rooms/membership/?banned=yes")
    alice.locator("tr", has_text=f"bob{tag}").locator("input.action-select").check()
    alice.locator("select[name=action]").select_option(label="Unban")
    alice.get_by_role("button", name="Go").click()
    expect(alice.locator(".messagelist")).to_contain_text("Unban: 1 membership(s).")
    wait_for_open_socket(bob)
    send(bob, "thanks for having me back")
    alice.goto(lounge)
    expect(message(alice, "thanks for having me back")).to_have_count(1)

    done("unban")
    asgi_server.assert_clean_log(since=mark)
