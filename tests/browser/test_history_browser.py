"""History in a real browser: scrolling back through 200 messages to the oldest, and
a search result opening a message in its context, with newer messages loading below."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messages_app.models import Message
from messages_app.services import message_post
from messages_app.text import render_message_html
from tests.browser.helpers import as_server_code, logged_in_context
from tests.factories import MembershipFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000


def old_messages(room, author, count, *, needle_at=None):
    """`count` messages, 40 minutes apart, the newest of them yesterday (several days)."""
    yesterday = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    start = yesterday - timedelta(minutes=40) * count
    Message.objects.bulk_create(
        Message(
            room=room,
            author=author,
            body=f"history message {n:03}" + (" with a needle" if n == needle_at else ""),
            body_html=render_message_html(
                f"history message {n:03}" + (" with a needle" if n == needle_at else "")
            ),
            created_at=start + timedelta(minutes=40) * n,
        )
        for n in range(count)
    )
    return list(Message.objects.filter(room=room).order_by("id"))


def open_page_as(user, new_context, server, path):
    """A browser page logged in as `user` (a session made here, in the shared database)."""
    page = logged_in_context(new_context, server, user).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(path)
    return page


def shown_ids(page):
    return page.locator("#messages > .message").evaluate_all("els => els.map(el => Number(el.dataset.id))")


def scroll_messages(page, where):
    """Scroll #messages to its "top" or "bottom"; returns the first message's top, measured at once."""
    return page.locator("#messages").evaluate(
        """(list, where) => {
            list.scrollTop = where === "top" ? 0 : list.scrollHeight;
            return list.querySelector(".message").getBoundingClientRect().top;
        }""",
        where,
    )


def days_of(messages):
    return {message.created_at.date() for message in messages}


def test_scrolling_up_loads_200_messages_back_to_the_oldest(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room = RoomFactory()
    reader, talker = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    history = old_messages(room, talker, 200)
    page = open_page_as(reader, new_context, asgi_server, f"/rooms/{room.slug}/")
    messages = page.locator("#messages > .message")
    list_box = page.locator("#messages")

    expect(messages).to_have_count(50)
    expect(page.locator(f"#message-{history[-1].pk}")).to_be_in_viewport()
    expect(page.locator(".jump-newest")).to_be_hidden()
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1)

    # The first page goes in above without moving what the reader sees.
    first_shown = page.locator(f"#message-{history[150].pk}")
    top_before = scroll_messages(page, "top")
    expect(messages).to_have_count(100)
    assert abs(first_shown.bounding_box()["y"] - top_before) < 2
    assert list_box.evaluate("el => el.scrollTop") > 0

    for count in (150, 200):
        scroll_messages(page, "top")
        expect(messages).to_have_count(count)
    scroll_messages(page, "top")
    expect(page.locator(".history-before")).to_have_count(0)
    expect(page.get_by_text("history message 000")).to_be_in_viewport()
    assert shown_ids(page) == [message.pk for message in history]
    # One separator per day, however the pages were cut.
    expect(page.locator("#messages .day-separator:visible")).to_have_count(len(days_of(history)))

    # Someone else writes while the reader is up in the history: the reader stays there.
    expect(page.locator(".jump-newest")).to_be_visible()
    live = as_server_code(message_post, room=room, author=talker, body="live while you read")
    expect(page.locator(f"#message-{live.pk}")).to_have_count(1)
    expect(page.get_by_text("history message 000")).to_be_in_viewport()
    as_server_code(message_post, room=room, author=talker, body="and another one today")
    expect(messages).to_have_count(202)
    expect(page.locator("#messages .day-separator:visible")).to_have_count(len(days_of(history)) + 1)

    page.locator(".jump-newest").click()
    expect(page.get_by_text("and another one today")).to_be_in_viewport()
    expect(page.locator(".jump-newest")).to_be_hidden()
    assert page.url.endswith(f"/rooms/{room.slug}/")
    asgi_server.assert_clean_log(since=mark)


def test_a_search_result_opens_the_message_in_context_and_newer_messages_load_below(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room = RoomFactory()
    reader, talker = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    history = old_messages(room, talker, 300, needle_at=100)
    target = history[100]
    page = open_page_as(reader, new_context, asgi_server, "/search/")

    page.fill("#search-q", "needle")
    result = page.locator(".search-result a")
    expect(result).to_have_count(1)
    expect(result.locator("mark")).to_have_text("needle")
    assert "q=needle" in page.url  # the address follows the query
    result.click()

    expect(page).to_have_url(re.compile(rf"/rooms/{room.slug}/\?around={target.pk}"))
    highlighted = page.locator("#messages > .message.highlighted")
    expect(highlighted).to_have_count(1)
    expect(highlighted).to_contain_text("history message 100 with a needle")
    expect(highlighted).to_be_in_viewport()
    expect(page.locator(".history-after")).to_have_count(1)
    expect(page.locator(".jump-newest")).to_be_visible()
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1)

    # A live message now would leave a gap below the loaded pages: it waits, hidden.
    live = as_server_code(message_post, room=room, author=talker, body="live during the visit")
    expect(page.locator(f"#message-{live.pk}")).to_be_hidden()

    scroll_messages(page, "bottom")
    # The page after is up to 200 rendered messages: slow on a busy two-core machine.
    expect(page.locator(".history-after")).to_have_count(0, timeout=15_000)
    expect(page.locator(f"#message-{live.pk}")).to_be_visible()
    ids = shown_ids(page)
    everything = [message.pk for message in history] + [live.pk]
    assert ids == everything[everything.index(ids[0]) :]  # no gap, no repeat, in order

    # Now at the newest, new messages show and are followed.
    scroll_messages(page, "bottom")
    newer = as_server_code(message_post, room=room, author=talker, body="right after the gap closed")
    expect(page.locator(f"#message-{newer.pk}")).to_be_in_viewport()

    # From the middle of history, "jump to newest" reloads the room at its newest.
    page.goto(f"/rooms/{room.slug}/?around={target.pk}")
    page.locator(".jump-newest").click()
    expect(page).to_have_url(re.compile(rf"/rooms/{room.slug}/$"))
    expect(page.locator(f"#message-{newer.pk}")).to_be_in_viewport()
    asgi_server.assert_clean_log(since=mark)
