"""History: pages of older messages (?before=), the room around one message (?around=),
day separators, and query counts that do not grow with the room."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from messages_app.models import Message
from messages_app.selectors import (
    message_page_around,
    message_page_before,
    message_page_latest,
    message_run_of,
)
from messages_app.services import message_delete, message_edit, message_post
from messages_app.text import render_message_html
from rooms.models import Membership
from tests.factories import MembershipFactory, MessageFactory, RoomFactory

pytestmark = pytest.mark.django_db

BODY_HTML = render_message_html("a message from the archive")
# Session, user, room, membership, messages, their reactions (with who reacted: one query
# per page, selectors.reaction_groups_attach), their files (attachments, for the messages
# not in the fragment cache) (+ the room page's own context).
HISTORY_PAGE_MAX_QUERIES = 7
ROOM_PAGE_MAX_QUERIES = 13  # the 12th: the member's notification level (notifications)


def bulk_messages(room, author, count, *, start=None, step=timedelta(minutes=1), batch_size=5000):
    """`count` messages in id order, `step` apart, created fast (no factories, no signals)."""
    start = start or timezone.now() - step * count
    for first in range(0, count, batch_size):
        Message.objects.bulk_create(
            Message(
                room=room,
                author=author,
                body=f"message {n}",
                body_html=BODY_HTML,
                created_at=start + step * n,
            )
            for n in range(first, min(count, first + batch_size))
        )


def ids(messages):
    return [message.pk for message in messages]


def shown_ids(html):
    return [int(pk) for pk in re.findall(r'<article id="message-(\d+)"', html)]


@pytest.fixture
def history(room, member):
    MessageFactory(room=RoomFactory(), author=member)  # another room's message never shows
    bulk_messages(room, member, 120)
    return list(Message.objects.filter(room=room).order_by("id"))


# --- selectors -------------------------------------------------------------------


def test_message_page_latest_says_whether_older_messages_exist(room, member):
    bulk_messages(room, member, 50)
    page = message_page_latest(room=room)
    assert len(page.messages) == 50 and not page.has_older and not page.has_newer

    bulk_messages(room, member, 1)
    page = message_page_latest(room=room)
    newest_50 = list(Message.objects.filter(room=room).order_by("-id")[:50])[::-1]
    assert page.messages == newest_50 and page.has_older


def test_message_page_before_walks_back_to_the_first_message_without_gaps(room, history):
    pages = [message_page_latest(room=room)]
    while pages[-1].has_older:
        pages.append(message_page_before(room=room, before_id=pages[-1].messages[0].pk))
    assert [len(page.messages) for page in pages] == [50, 50, 20]
    assert [message for page in reversed(pages) for message in page.messages] == history


def test_message_page_around_shows_25_messages_on_each_side(room, member):
    bulk_messages(room, member, 100)
    history = list(Message.objects.filter(room=room).order_by("id"))

    page = message_page_around(room=room, message_id=history[50].pk)
    assert page.messages == history[25:76] and page.has_older and page.has_newer

    near_the_start = message_page_around(room=room, message_id=history[3].pk)
    assert near_the_start.messages == history[:29] and not near_the_start.has_older
    near_the_end = message_page_around(room=room, message_id=history[-2].pk)
    assert near_the_end.messages == history[73:] and not near_the_end.has_newer


def test_message_page_around_is_none_for_a_forged_id_or_another_rooms_message(room, member):
    mine = MessageFactory(room=room, author=member)
    elsewhere = MessageFactory(room=RoomFactory())
    newer_here = MessageFactory(room=room, author=member)
    assert message_page_around(room=room, message_id=mine.pk).messages == [mine, newer_here]
    assert message_page_around(room=room, message_id=elsewhere.pk) is None
    assert message_page_around(room=room, message_id=newer_here.pk + 1000) is None


# --- the room page and history fragments ----------------------------------------------


def test_older_pages_carry_a_sentinel_until_the_first_message(client, room, member, history):
    client.force_login(member)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert shown_ids(page) == ids(history[70:])
    assert f'hx-get="/rooms/{room.slug}/messages/?before={history[70].pk}"' in page
    assert 'hx-trigger="intersect once, click"' in page

    older = client.get(f"/rooms/{room.slug}/messages/?before={history[70].pk}").content.decode()
    assert shown_ids(older) == ids(history[20:70])
    assert older.index('class="history-before"') < older.index(f'id="message-{history[20].pk}"')
    assert f"?before={history[20].pk}" in older

    oldest = client.get(f"/rooms/{room.slug}/messages/?before={history[20].pk}").content.decode()
    assert shown_ids(oldest) == ids(history[:20])
    assert "history-before" not in oldest


def test_a_room_with_one_page_of_messages_has_no_sentinel(client, room, member):
    bulk_messages(room, member, 50)
    client.force_login(member)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert len(shown_ids(page)) == 50 and "history-before" not in page and "history-after" not in page


def test_room_page_has_a_hidden_jump_to_newest_control(client, room, member, history):
    client.force_login(member)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert f'<a class="jump-newest button" href="/rooms/{room.slug}/" hidden>' in page


def test_history_fragment_with_an_absurd_cursor_is_empty_not_an_error(client, room, member, history):
    client.force_login(member)
    response = client.get(f"/rooms/{room.slug}/messages/?before=99999999999999999999999")
    assert response.status_code == 200 and len(shown_ids(response.content.decode())) == 50
    response = client.get(f"/rooms/{room.slug}/messages/?after=99999999999999999999999")
    assert response.status_code == 200 and shown_ids(response.content.decode()) == []


# --- day separators ------------------------------------------------------------------


@pytest.fixture
def three_days(room, member):
    """Ten messages a day, at noon and after, on three days."""
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=3)
    for day in range(3):
        bulk_messages(room, member, 10, start=noon + timedelta(days=day))
    return list(Message.objects.filter(room=room).order_by("id"))


def day_starts(html):
    return [int(pk) for pk in re.findall(r'<article id="message-(\d+)"[^>]* data-day-start', html)]


def test_day_separator_shows_on_the_first_message_of_each_day(client, room, member, three_days):
    client.force_login(member)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert day_starts(page) == [three_days[0].pk, three_days[10].pk, three_days[20].pk]
    assert page.count('class="day-separator"') == 3
    first_day = three_days[0].created_at
    assert f'data-day="{first_day:%Y-%m-%d}"' in page
    assert f"{first_day:%A}, {first_day:%B} {first_day.day}, {first_day.year}" in page


def test_pages_join_without_a_second_separator_for_one_day(client, room, member, three_days):
    """A page knows the message before it: its first message starts a day only if
    that message is on another day (so pages put together show each day once)."""
    client.force_login(member)
    older = client.get(f"/rooms/{room.slug}/messages/?before={three_days[15].pk}").content.decode()
    assert day_starts(older) == [three_days[0].pk, three_days[10].pk]
    newer = client.get(f"/rooms/{room.slug}/messages/?after={three_days[14].pk}").content.decode()
    assert day_starts(newer) == [three_days[20].pk]
    next_day = client.get(f"/rooms/{room.slug}/messages/?after={three_days[9].pk}").content.decode()
    assert day_starts(next_day)[0] == three_days[10].pk


def continued(html):
    return [int(pk) for pk in re.findall(r'<article id="message-(\d+)" class="message continued', html)]


def test_one_authors_messages_within_five_minutes_form_a_run_across_pages(client, room, member):
    other = MembershipFactory(room=room).user
    start = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    bulk_messages(room, member, 3, start=start)  # 12:00, 12:01, 12:02
    bulk_messages(room, member, 1, start=start + timedelta(minutes=10))  # after a pause
    bulk_messages(room, other, 1, start=start + timedelta(minutes=11))  # someone else
    bulk_messages(room, other, 1, start=start + timedelta(minutes=12))
    rows = list(Message.objects.filter(room=room).order_by("id"))
    client.force_login(member)

    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert continued(page) == [rows[1].pk, rows[2].pk, rows[5].pk]
    # The same holds where pages join: the page after rows[0] knows rows[0].
    below = client.get(f"/rooms/{room.slug}/messages/?after={rows[0].pk}").content.decode()
    assert continued(below) == [rows[1].pk, rows[2].pk, rows[5].pk]
    above = client.get(f"/rooms/{room.slug}/messages/?before={rows[2].pk}").content.decode()
    assert continued(above) == [rows[1].pk]


def test_a_live_message_is_marked_against_the_rooms_message_before_it(room, member):
    other = MembershipFactory(room=room).user
    yesterday = MessageFactory(room=room, author=member, created_at=timezone.now() - timedelta(days=1))
    first = message_post(room=room, author=member, body="first today")
    second = message_post(room=room, author=member, body="second today")
    third = message_post(room=room, author=other, body="someone else")

    assert yesterday.pk < first.pk
    assert (first.day_start, first.continued) == (True, False)
    assert (second.day_start, second.continued) == (False, True)
    assert (third.day_start, third.continued) == (False, False)
    html = render_to_string("messages_app/partials/message_oob.html", {"message": second, "room": room})
    assert f'<article id="message-{second.pk}" class="message continued"' in html
    assert "data-day-start" not in html


def test_an_edited_message_keeps_its_place_in_its_run(room, member, django_capture_on_commit_callbacks):
    message_post(room=room, author=member, body="one")
    second = message_post(room=room, author=member, body="two")
    second.body = "two, edited"
    second.edited_at = timezone.now()
    context = {"message": message_run_of(second), "room": room, "oob": True}
    html = render_to_string("messages_app/partials/message.html", context)
    assert f'<article id="message-{second.pk}" class="message continued"' in html


# --- around a message (?around=, from search) ------------------------------------


def test_room_around_a_message_highlights_it_among_its_neighbours(client, room, member, history):
    target = history[50]
    client.force_login(member)
    page = client.get(f"/rooms/{room.slug}/?around={target.pk}").content.decode()

    assert shown_ids(page) == ids(history[25:76])
    assert re.search(f'<article id="message-{target.pk}" class="message[^"]* highlighted"', page)
    assert page.count("highlighted") == 1
    assert f'hx-get="/rooms/{room.slug}/messages/?before={history[25].pk}"' in page
    assert f'data-more-after="{history[75].pk}"' in page
    assert f'hx-get="/rooms/{room.slug}/messages/?after={history[75].pk}"' in page
    # Not at the newest: the jump control shows, and reloads the room at its newest.
    assert f'<a class="jump-newest button" href="/rooms/{room.slug}/">' in page


def test_pages_after_the_around_view_lead_to_the_newest_message(client, room, member, history):
    client.force_login(member)
    newer = client.get(f"/rooms/{room.slug}/messages/?after={history[75].pk}").content.decode()
    assert shown_ids(newer) == ids(history[76:]) and "history-after" not in newer


def test_room_around_a_recent_message_reaches_the_newest(client, room, member, history):
    client.force_login(member)
    page = client.get(f"/rooms/{room.slug}/?around={history[-3].pk}").content.decode()
    assert shown_ids(page) == ids(history[-28:])
    assert "history-after" not in page and "data-more-after" not in page
    assert f'<a class="jump-newest button" href="/rooms/{room.slug}/" hidden>' in page


def test_room_around_marks_read_only_what_it_shows(client, room, member, history):
    client.force_login(member)
    client.get(f"/rooms/{room.slug}/?around={history[10].pk}")
    assert Membership.objects.get(room=room, user=member).last_read_message_id == history[35].pk


def test_around_a_forged_or_foreign_message_is_a_404_that_reveals_nothing(client, room, member, history):
    private = RoomFactory(is_private=True)
    secret = MessageFactory(room=private, body="the secret plan")
    other_public = MessageFactory(room=RoomFactory(), body="another room's words")
    client.force_login(member)

    for around in (secret.pk, other_public.pk, history[-1].pk + 10_000, "99999999999999999999999"):
        response = client.get(f"/rooms/{room.slug}/?around={around}")
        assert response.status_code == 404
        assert b"the secret plan" not in response.content and b"another room" not in response.content
    response = client.get(f"/rooms/{private.slug}/?around={secret.pk}")
    assert response.status_code == 404 and b"the secret plan" not in response.content


def test_around_that_is_not_a_number_shows_the_room_at_its_newest(client, room, member, history):
    client.force_login(member)
    for around in ("abc", "", "-5", "1e3"):
        response = client.get(f"/rooms/{room.slug}/", {"around": around})
        assert response.status_code == 200 and shown_ids(response.content.decode()) == ids(history[70:])


def test_banned_member_cannot_open_the_room_around_a_message(client, room, history):
    banned = MembershipFactory(room=room, banned_at=timezone.now()).user
    client.force_login(banned)
    response = client.get(f"/rooms/{room.slug}/?around={history[50].pk}")
    assert response.status_code == 403 and b"message 50" not in response.content


# --- cost --------------------------------------------------------------------------


def _query_count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_history_queries_are_the_same_with_100_and_100000_messages(
    client, member, django_assert_max_num_queries
):
    """Every page is a keyset scan on (room, id): neither the number of queries
    nor what they scan depends on how old the room is."""
    small, large = RoomFactory(), RoomFactory()
    for room, count in ((small, 100), (large, 100_000)):
        MembershipFactory(room=room, user=member)
        bulk_messages(room, member, count, step=timedelta(seconds=1))
    client.force_login(member)

    counts = {}
    for room in (small, large):
        newest = Message.objects.filter(room=room).order_by("-id").values_list("id", flat=True)
        middle = newest[40]  # 40 newer than it, more than 25 older: sentinels above and below
        urls = {
            "older page": f"/rooms/{room.slug}/messages/?before={newest[29]}",
            "room page": f"/rooms/{room.slug}/",
            "around": f"/rooms/{room.slug}/?around={middle}",
        }
        for name, url in urls.items():
            limit = HISTORY_PAGE_MAX_QUERIES if name == "older page" else ROOM_PAGE_MAX_QUERIES
            with django_assert_max_num_queries(limit):
                counts[room.pk, name], html = _query_count(client, url)
            assert len(shown_ids(html)) in (50, 51) and "history-before" in html

    for name in ("older page", "room page", "around"):
        assert counts[small.pk, name] == counts[large.pk, name], name
    print(
        "queries per page:", {name: counts[large.pk, name] for name in ("older page", "room page", "around")}
    )


# --- rendered fragments, reused (messages_app/fragments.py) --------------------------


@pytest.fixture
def message_renders():
    """How many times message.html is rendered (Django's test instrumentation)."""
    from django.test.signals import template_rendered

    renders = []

    def count(sender, template, **kwargs):
        if template.name == "messages_app/partials/message.html":
            renders.append(template)

    template_rendered.connect(count)
    yield renders
    template_rendered.disconnect(count)


def test_a_page_shown_again_reuses_its_rendered_messages(client, room, member, message_renders):
    bulk_messages(room, member, 60)
    client.force_login(member)
    first = client.get(f"/rooms/{room.slug}/").content.decode()
    assert len(message_renders) == 50
    second = client.get(f"/rooms/{room.slug}/").content.decode()
    assert len(message_renders) == 50, "the second page rendered messages again"
    assert shown_ids(second) == shown_ids(first)


def test_an_edit_a_deletion_or_a_new_name_is_shown_not_the_old_fragment(client, room, member):
    message_post(room=room, author=member, body="untouched")
    edited = message_post(room=room, author=member, body="before the edit")
    doomed = message_post(room=room, author=member, body="deleted soon")
    client.force_login(member)
    assert "before the edit" in client.get(f"/rooms/{room.slug}/").content.decode()

    message_edit(room=room, user=member, message_id=edited.pk, body="after the edit")
    message_delete(room=room, user=member, message_id=doomed.pk)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert "after the edit" in page and "before the edit" not in page
    assert "deleted soon" not in page and "message deleted" in page

    member.username = "renamed-author"
    member.save(update_fields=["username"])
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert page.count('<strong class="author">renamed-author</strong>') == 3  # the untouched one too
