"""Nothing lost, in a real browser: the page's server restarts while the other
member posts, edits and deletes; after the reconnect the page shows exactly the
right messages, once each, in order. And a frame whose predecessor never arrived
makes the page catch up."""

import pytest
from playwright.sync_api import expect

from messages_app.models import Message
from messages_app.services import message_delete, message_edit, message_post
from messages_app.text import render_message_html
from tests.browser.helpers import as_server_code, logged_in_context
from tests.factories import MembershipFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 20_000


def open_room_as(new_context, server, user, room):
    page = logged_in_context(new_context, server, user).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"/rooms/{room.slug}/")
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1, timeout=TIMEOUT_MS)
    return page


def shown_messages(page):
    """(id, text) of every message on the page, in page order."""
    return page.eval_on_selector_all(
        "#messages > .message",
        "nodes => nodes.map(n => [Number(n.dataset.id), n.querySelector('.body').innerText.trim()])",
    )


def test_page_misses_nothing_while_its_server_restarts(asgi_server_factory, new_context):
    server = asgi_server_factory("restarting")
    room = RoomFactory()
    alice, bob = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    before = as_server_code(message_post, room=room, author=bob, body="before the restart")
    page = open_room_as(new_context, server, alice, room)
    expect(page.locator(f"#message-{before.pk}")).to_be_visible()

    server.stop()
    expect(page.locator('#room[data-socket="closed"]')).to_have_count(1, timeout=TIMEOUT_MS)
    # Alice sends while her socket is down: the send waits and goes once it is back.
    page.locator("#composer-body").fill("sent while the server was down")
    page.locator("#composer-body").press("Enter")
    sent = [as_server_code(message_post, room=room, author=bob, body=f"while away {n}") for n in range(1, 6)]
    as_server_code(message_edit, room=room, user=bob, message_id=before.pk, body="edited while away")
    as_server_code(message_delete, room=room, user=bob, message_id=sent[2].pk)
    restarted = asgi_server_factory("restarted", port=server.port)

    # htmx's reconnect backoff grows with each failed attempt: allow for it.
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1, timeout=TIMEOUT_MS)
    expect(page.locator(f"#message-{sent[-1].pk}")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator(f"#message-{before.pk} .body")).to_have_text("edited while away")
    expect(page.locator("#messages")).to_contain_text("sent while the server was down", timeout=TIMEOUT_MS)
    queued = Message.objects.get(body="sent while the server was down")  # exactly one
    expected = [(before.pk, "edited while away")] + [
        (message.pk, "message deleted" if message.pk == sent[2].pk else message.body) for message in sent
    ]
    assert [tuple(item) for item in shown_messages(page)] == [*expected, (queued.pk, queued.body)]
    expect(page.locator(f"#message-{before.pk} .edited")).to_be_visible()
    restarted.assert_clean_log()


def test_a_frame_after_a_missed_one_makes_the_page_catch_up(asgi_server, new_context):
    room = RoomFactory()
    alice, bob = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    page = open_room_as(new_context, asgi_server, alice, room)

    # Saved without a broadcast: exactly what a dropped frame looks like to the page.
    missed = Message.objects.create(
        room=room, author=bob, body="dropped frame", body_html=render_message_html("dropped frame")
    )
    after = as_server_code(message_post, room=room, author=bob, body="the next one")

    expect(page.locator(f"#message-{missed.pk}")).to_be_visible(timeout=TIMEOUT_MS)
    assert [tuple(item) for item in shown_messages(page)] == [
        (missed.pk, "dropped frame"),
        (after.pk, "the next one"),
    ]
