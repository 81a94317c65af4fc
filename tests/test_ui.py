"""The interface's server side: avatars from initials and a colour per user, the markup
ui.js and chat.css build on, and a page that stays as cheap with many authors.
(The browser side is tests/browser/test_ui_browser.py.)"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messages_app.templatetags.avatars import HUE_COUNT, hue, initials
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "username, first_name, last_name, expected",
    [
        ("alice", "", "", "A"),
        ("alice_smith", "", "", "AS"),
        ("bob.jones-99", "", "", "BJ"),
        ("zed", "Zoë", "Ng", "ZN"),
        ("émile", "", "", "É"),
        ("__", "", "", "_"),
    ],
)
def test_initials_come_from_the_full_name_or_else_the_username(username, first_name, last_name, expected):
    user = UserFactory(username=username, first_name=first_name, last_name=last_name)
    assert initials(user) == expected


def test_a_deleted_author_gets_a_question_mark_on_a_neutral_colour():
    assert initials(None) == "?"
    assert hue(None) == hue("") == "hue-none"


def test_each_user_keeps_one_of_twelve_colours_and_neighbours_differ():
    colours = [hue(user_id) for user_id in range(1, HUE_COUNT + 1)]
    assert sorted(colours) == sorted(f"hue-{n}" for n in range(HUE_COUNT))  # all twelve, once each
    assert all(colours[i] != colours[i + 1] for i in range(HUE_COUNT - 1))
    assert hue(7) == hue("7") == hue(7 + HUE_COUNT)


def test_a_message_carries_its_avatar_and_a_time_that_ui_js_makes_relative(client):
    room = RoomFactory()
    author = MembershipFactory(room=room, user=UserFactory(username="carol_king")).user
    message = MessageFactory(room=room, author=author, body="hello")
    client.force_login(author)
    page = client.get(f"/rooms/{room.slug}/").content.decode()

    assert f'<span class="avatar {hue(author.pk)}" aria-hidden="true">CK</span>' in page
    time = re.search(
        rf'<article id="message-{message.pk}".*?(<time datetime="[^"]+"[^>]*data-relative>.*?</time>)',
        page,
        re.S,
    )
    assert time, "the message has a <time data-relative>"
    assert f'datetime="{message.created_at.isoformat()}"' in time.group(1)
    assert 'title="' in time.group(1)  # the exact time on hover
    # The visible (relative) text is hidden from screen readers, which read the exact time:
    # refreshing it every 30 s must not make the live log speak.
    assert '<span class="ago" aria-hidden="true">' in time.group(1)
    assert '<span class="visually-hidden">' in time.group(1)


def test_the_room_page_has_the_hooks_of_the_interface(client):
    room = RoomFactory()
    member = MembershipFactory(room=room).user
    client.force_login(member)
    page = client.get(f"/rooms/{room.slug}/").content.decode()

    assert 'id="messages" class="messages" role="log" aria-live="polite" aria-relevant="additions"' in page
    assert '<div class="connection-status" role="status"><p class="connection-lost" hidden>' in page
    assert 'aria-describedby="composer-hint composer-count"' in page and '<span id="composer-count"' in page
    for panel in ("sidebar", "room-tools", "members"):
        assert f'data-panel="{panel}" aria-controls="{panel}"' in page
        assert f'id="{panel}"' in page
    assert (
        '<span class="jump-label">Jump to newest</span><span class="fresh-label">New messages</span>' in page
    )
    assert '<button type="button" class="icon-button theme-toggle" aria-pressed="false"' in page


def test_a_reader_who_is_not_a_member_gets_no_connection_banner(client, user):
    room = RoomFactory()
    client.force_login(user)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert "Join room" in page
    assert "connection-lost" not in page


def test_pages_load_the_theme_before_the_stylesheet_and_have_no_inline_script_or_style(client, user):
    room = RoomFactory()
    MembershipFactory(room=room, user=user)
    MessageFactory(room=room, author=user)
    client.force_login(user)
    for path in ("/", f"/rooms/{room.slug}/", "/search/?q=message", "/rooms/new/"):
        page = client.get(path).content.decode()
        head = page.split("</head>")[0]
        assert head.index('<script src="/static/js/theme.js"></script>') < head.index('rel="stylesheet"'), (
            path
        )
        assert '<script src="/static/js/ui.js" defer></script>' in head, path
        assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", page), f"inline script on {path}"
        assert not re.search(r"\sstyle=", page), f"inline style on {path}"
        assert not re.search(r"<style[\s>]", page), f"<style> on {path}"


def test_avatars_cost_no_query_per_author(client, django_assert_max_num_queries):
    """Initials and colours come from the author row the page already reads."""
    one_author, many_authors = RoomFactory(), RoomFactory()
    reader = UserFactory()
    for room in (one_author, many_authors):
        MembershipFactory(room=room, user=reader)
    MessageFactory.create_batch(50, room=one_author, author=reader)
    for author in UserFactory.create_batch(25):
        MembershipFactory(room=many_authors, user=author)
        MessageFactory.create_batch(2, room=many_authors, author=author)
    client.force_login(reader)
    counts = {}
    for room in (one_author, many_authors):
        with CaptureQueriesContext(connection) as queries:
            page = client.get(f"/rooms/{room.slug}/").content.decode()
        assert page.count('class="avatar hue-') == 50
        counts[room.slug] = len(queries)
    assert counts[one_author.slug] == counts[many_authors.slug]
    with django_assert_max_num_queries(9):
        client.get(f"/rooms/{many_authors.slug}/")
