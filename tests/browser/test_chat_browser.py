"""End to end in a real browser: sign up, create and join a room, chat live."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from messages_app.models import Message
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000


def sign_up(page, username):
    page.goto("/accounts/signup/")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", f"{username}@example.com")
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("form:has(input[name=password2])").locator("[type=submit]").click()
    expect(page.locator(".whoami")).to_contain_text(username)


def wait_for_open_socket(page):
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1, timeout=TIMEOUT_MS)


def send(page, text):
    composer = page.locator("#composer-body")
    composer.fill(text)
    composer.press("Enter")
    expect(composer).to_have_value("")


def test_two_people_chat_live_in_a_new_room(asgi_server, new_context):
    mark = asgi_server.log_mark()
    tag = uuid.uuid4().hex[:8]
    alice_page = new_context(base_url=asgi_server.url).new_page()
    bob_page = new_context(base_url=asgi_server.url).new_page()
    for page in (alice_page, bob_page):
        page.set_default_timeout(TIMEOUT_MS)

    sign_up(alice_page, f"alice{tag}")
    sign_up(bob_page, f"bob{tag}")

    alice_page.goto("/rooms/new/")
    alice_page.fill("input[name=name]", f"Lobby {tag}")
    alice_page.fill("[name=topic]", "Say hello")
    alice_page.locator("form:has(input[name=name])").locator("[type=submit]").click()
    expect(alice_page.locator("#room h1")).to_contain_text(f"Lobby {tag}")
    room_path = re.sub(r"^https?://[^/]+", "", alice_page.url)
    assert room_path.startswith("/rooms/") and room_path != "/rooms/new/"

    bob_page.goto(room_path)
    bob_page.get_by_role("button", name="Join room").click()
    wait_for_open_socket(bob_page)
    wait_for_open_socket(alice_page)

    greeting = f"Hello Bob, this is Alice {tag}"
    send(alice_page, greeting)
    expect(alice_page.locator("#messages")).to_contain_text(greeting)
    expect(bob_page.locator("#messages")).to_contain_text(greeting)

    bob_page.reload()
    expect(bob_page.locator("#messages")).to_contain_text(greeting)
    wait_for_open_socket(bob_page)

    reply = f"Hi Alice, Bob here {tag}"
    send(bob_page, reply)
    expect(alice_page.locator("#messages")).to_contain_text(reply)
    expect(alice_page.locator("#messages .message")).to_have_count(2)
    expect(alice_page.locator("#composer-errors")).to_have_text("")
    expect(bob_page.locator("#composer-errors")).to_have_text("")

    saved = list(
        Message.objects.filter(room__name=f"Lobby {tag}")
        .order_by("id")
        .values_list("author__username", "body")
    )
    assert saved == [(f"alice{tag}", greeting), (f"bob{tag}", reply)]
    asgi_server.assert_clean_log(since=mark)
