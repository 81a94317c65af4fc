"""Search: Postgres full-text search in one room and across every room the user may
read, highlighted excerpts that never carry user HTML, and the SQLite fallback."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.utils import timezone

from messages_app.models import Message
from messages_app.search import MATCH_START, MATCH_STOP, ExcerptPart, excerpt_from_headline, plain_excerpt
from messages_app.selectors import (
    RARE_WORD_MATCHES,
    message_search_all,
    message_search_full_text,
    message_search_plain,
    message_search_room,
)
from messages_app.text import render_message_html
from rooms.selectors import room_list_readable
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db

PROJECT_DIR = Path(__file__).resolve().parent.parent
GLOBAL_SEARCH_QUERIES = 4  # session, user, matches, results (readable rooms are a subquery)
ROOM_SEARCH_QUERIES = 6  # session, user, room, membership, matches, results


def bodies(page):
    return [message.body for message in page.results]


@pytest.fixture
def rooms(user):
    """The user's view of the world: what they may and may not read."""
    public = RoomFactory(name="Lobby")
    mine_private = MembershipFactory(user=user, room=RoomFactory(name="Our den", is_private=True)).room
    others_private = RoomFactory(name="Their den", is_private=True)
    banned_public = RoomFactory(name="Was here")
    MembershipFactory(user=user, room=banned_public, banned_at=timezone.now())
    banned_private = RoomFactory(name="Was in", is_private=True)
    MembershipFactory(user=user, room=banned_private, banned_at=timezone.now())
    return {
        "public": public,
        "mine_private": mine_private,
        "others_private": others_private,
        "banned_public": banned_public,
        "banned_private": banned_private,
    }


def say(room, body, author=None):
    return MessageFactory(room=room, body=body, **({"author": author} if author else {}))


# --- who may read what ---------------------------------------------------------------


def test_room_list_readable_is_public_rooms_and_my_private_rooms_minus_bans(user, rooms):
    assert set(room_list_readable(user=user)) == {rooms["public"], rooms["mine_private"]}


def test_search_all_never_shows_others_private_rooms_banned_rooms_or_deleted_messages(user, rooms):
    for name, room in rooms.items():
        say(room, f"deploy news from {name}")
    deleted = say(rooms["public"], "deploy news that was deleted")
    Message.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())

    found = bodies(message_search_all(user=user, query="deploy"))
    assert found == ["deploy news from mine_private", "deploy news from public"]


def test_search_room_stays_in_the_room_and_still_checks_who_may_read(user, rooms):
    for name, room in rooms.items():
        say(room, f"deploy news from {name}")
    assert bodies(message_search_room(user=user, room=rooms["public"], query="deploy")) == [
        "deploy news from public"
    ]
    # The views check access first; the selector refuses on its own as well.
    assert message_search_room(user=user, room=rooms["others_private"], query="deploy").results == []
    assert message_search_room(user=user, room=rooms["banned_public"], query="deploy").results == []


# --- full-text matching --------------------------------------------------------------


def test_search_matches_word_forms_newest_first(user, room):
    say(room, "We deployed the server on Monday")
    say(room, "Nothing to see here")
    say(room, "Deploying again tomorrow")
    assert bodies(message_search_all(user=user, query="deploys")) == [
        "Deploying again tomorrow",
        "We deployed the server on Monday",
    ]


@pytest.mark.parametrize(
    "query, expected",
    [
        ('"red car"', ["I bought the red car"]),
        ("car -blue", ["The car is red", "I bought the red car"]),
        ("blue or bought", ["A blue car", "I bought the red car"]),
        ("car", ["A blue car", "The car is red", "I bought the red car"]),
        ("the", []),  # only stop words: nothing, and no error
    ],
)
def test_search_understands_web_search_syntax(user, room, query, expected):
    for body in ("I bought the red car", "The car is red", "A blue car"):
        say(room, body)
    assert bodies(message_search_all(user=user, query=query)) == expected


@pytest.mark.parametrize("query", ["foo & | ! ( :* '", "\\", "-", '"', "or", "a:b <-> c", "%_"])
def test_search_never_fails_on_odd_queries(user, room, query):
    say(room, "a perfectly ordinary message")
    assert message_search_all(user=user, query=query).results == []


def test_search_pages_by_keyset_without_gaps_or_repeats(user, room):
    messages = [say(room, f"standup notes {n}") for n in range(45)]
    say(room, "unrelated")
    pages, before = [], None
    while True:
        page = message_search_all(user=user, query="standup", before_id=before)
        pages.append(page.results)
        before = page.next_before
        if before is None:
            break
    assert [len(page) for page in pages] == [20, 20, 5]
    assert [message for page in pages for message in page] == messages[::-1]


def test_search_excerpt_highlights_the_matching_words(user, room):
    say(room, "Long before anything else, we deployed the new server, and then we had lunch.")
    (result,) = message_search_all(user=user, query="deploy server").results
    assert [part.text for part in result.excerpt if part.is_match] == ["deployed", "server"]
    assert "".join(part.text for part in result.excerpt).startswith("Long before anything")
    assert result.room == room and result.author is not None  # shown with each result


def explain_the_queries_of(call):
    """EXPLAIN the queries a selector runs, as it ran them (same SQL, same parameters),
    every plan in one text."""
    captured = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        call()
    plans = []
    with connection.cursor() as cursor:
        for sql, params in captured:
            cursor.execute(f"EXPLAIN {sql}", params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return "\n\n".join(plans)


def test_the_search_index_is_used(user, rooms):
    """The query uses the same expression as the GIN index, else no plan could use it."""
    words = ["alpha", "beta", "gamma", "delta", "server", "client", "cache", "query"]
    Message.objects.bulk_create(
        Message(room=rooms["public"], author=user, body=f"{words[n % 8]} {words[n % 5]} {n}", body_html="")
        for n in range(3000)
    )
    say(rooms["public"], "zebrafish sighting")
    say(rooms["mine_private"], "zebrafish sighting")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE messages_app_message")

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        everywhere = explain_the_queries_of(lambda: message_search_all(user=user, query="zebrafish"))
        one_room = explain_the_queries_of(
            lambda: message_search_room(user=user, room=rooms["public"], query="zebrafish")
        )
    for plan in (everywhere, one_room):
        assert "Bitmap Index Scan on message_search_document" in plan, plan


def test_a_rare_word_is_found_through_the_index_among_many_newer_messages(user, rooms):
    """Postgres guesses that a word matches 0.5% of the messages, whatever the word: it
    must not walk every newer message backwards looking for a rare one."""
    say(rooms["public"], "zebrafish sighting")
    with connection.cursor() as cursor:  # 60,000 newer messages, quickly
        cursor.execute(
            "INSERT INTO messages_app_message (room_id, author_id, body, body_html, created_at, changed_at)"
            " SELECT %s, %s, 'standup ' || n, '', now(), now() FROM generate_series(1, 60000) n",
            [rooms["public"].pk, user.pk],
        )
        cursor.execute("ANALYZE messages_app_message")

    def search_zebrafish():
        return message_search_room(user=user, room=rooms["public"], query="zebrafish")

    plans = explain_the_queries_of(search_zebrafish)

    assert "Bitmap Index Scan on message_search_document" in plans, plans
    assert "Index Scan Backward using messages_app_message_pkey" not in plans, plans
    assert [message.body for message in search_zebrafish().results] == ["zebrafish sighting"]


def test_a_common_word_gives_the_newest_matches_first(user, rooms):
    """More matches than RARE_WORD_MATCHES: the newest page, newest first, and the next."""
    say(rooms["public"], "standup oldest")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO messages_app_message (room_id, author_id, body, body_html, created_at, changed_at)"
            " SELECT %s, %s, 'standup ' || n, '', now(), now() FROM generate_series(1, %s) n",
            [rooms["public"].pk, user.pk, RARE_WORD_MATCHES + 5],
        )

    first = message_search_room(user=user, room=rooms["public"], query="standup")
    second = message_search_room(
        user=user, room=rooms["public"], query="standup", before_id=first.next_before
    )

    expected = [f"standup {n}" for n in range(RARE_WORD_MATCHES + 5, 0, -1)]
    assert [message.body for message in first.results + second.results] == expected[:40]


# --- excerpts: plain text with markers, never HTML --------------------------------------


def test_excerpt_from_headline_splits_matches_from_text():
    headline = f"we {MATCH_START}deployed{MATCH_STOP} the {MATCH_START}server{MATCH_STOP}"
    assert excerpt_from_headline(headline) == [
        ExcerptPart("we "),
        ExcerptPart("deployed", True),
        ExcerptPart(" the "),
        ExcerptPart("server", True),
    ]


def test_markers_typed_into_a_body_only_move_the_highlighting():
    assert excerpt_from_headline(f"{MATCH_STOP}<b>{MATCH_START}x") == [
        ExcerptPart("<b>"),
        ExcerptPart("x", True),
    ]


def test_plain_excerpt_marks_the_first_occurrence_case_insensitively():
    body = "x" * 100 + " the Deploy went fine " + "y" * 100
    parts = plain_excerpt(body, "deploy")
    assert [part for part in parts if part.is_match] == [ExcerptPart("Deploy", True)]
    assert parts[0].text.startswith("…") and parts[-1].text.endswith("…")
    assert len("".join(part.text for part in parts)) < 140


# --- the SQLite fallback matcher (run here on Postgres; also end to end below) -----------


def test_plain_search_matches_substrings_with_a_plain_excerpt(user, room):
    say(room, "The Deployment is done")
    say(room, "nothing")
    page = message_search_plain(messages=Message.objects.all(), query="deploy")
    (result,) = page.results
    assert [part.text for part in result.excerpt if part.is_match] == ["Deploy"]
    assert page.next_before is None


def test_full_text_and_plain_matchers_page_alike(user, room):
    for n in range(25):
        say(room, f"release {n}")
    for matcher in (message_search_full_text, message_search_plain):
        page = matcher(messages=Message.objects.all(), query="release", limit=10)
        assert len(page.results) == 10 and page.next_before == page.results[-1].pk


SQLITE_SCRIPT = textwrap.dedent(
    """
    from django.test import Client
    from accounts.models import User
    from messages_app.services import message_post
    from rooms.services import room_create

    alice = User.objects.create_user("alice", "alice@example.com", "a-Long-test-password-42")
    bob = User.objects.create_user("bob", "bob@example.com", "a-Long-test-password-42")
    lobby = room_create(name="Lobby", created_by=alice)
    den = room_create(name="Den", created_by=bob, is_private=True)
    message_post(room=lobby, author=alice, body="The Deploy went fine <b>really</b>")
    message_post(room=den, author=bob, body="deploy the secret plan")
    client = Client()
    client.force_login(alice)
    for url in ("/search/?q=deploy", "/rooms/lobby/search/?q=deploy"):
        response = client.get(url)
        print("STATUS", response.status_code)
        print(response.content.decode())
    """
)


def test_sqlite_fallback_migrates_and_searches(tmp_path):
    """Without DATABASE_URL the project runs on SQLite: the search index migration
    does nothing there, and search still finds (a simpler match), highlights and
    respects private rooms."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="config.settings",
        ALLOWED_HOSTS="testserver",
        CHAT_RATE_LIMIT="0",
    )

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    migrated = manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    assert "messages_app.0006_message_search_document... OK" in migrated.stdout
    searched = manage("shell", "-c", SQLITE_SCRIPT)
    assert searched.returncode == 0, searched.stderr
    assert searched.stdout.count("STATUS 200") == 2
    assert searched.stdout.count("The <mark>Deploy</mark> went fine &lt;b&gt;really&lt;/b&gt;") == 2
    assert "secret plan" not in searched.stdout and "<b>really" not in searched.stdout


# --- pages -----------------------------------------------------------------------------


def test_search_page_shows_room_author_time_and_opens_the_message_in_context(client, user, rooms):
    author = UserFactory(username="carol")
    message = say(rooms["mine_private"], "the quarterly report is late", author=author)
    client.force_login(user)

    page = client.get("/search/", {"q": "report"}).content.decode()

    assert 'class="search-result-room">' in page and "Our den" in page
    assert '<strong class="author">carol</strong>' in page
    assert f'<time datetime="{message.created_at.isoformat()}">' in page
    assert f'href="/rooms/{rooms["mine_private"].slug}/?around={message.pk}#message-{message.pk}"' in page
    assert "the quarterly <mark>report</mark> is late" in page
    assert 'value="report"' in page and 'hx-get="/search/"' in page


def test_search_page_in_a_room_searches_that_room_only(client, user, rooms):
    say(rooms["public"], "lunch at noon")
    say(rooms["mine_private"], "lunch at one")
    client.force_login(user)
    page = client.get(f"/rooms/{rooms['public'].slug}/search/", {"q": "lunch"}).content.decode()
    assert "<mark>lunch</mark> at noon" in page and "at one" not in page
    assert f'hx-get="/rooms/{rooms["public"].slug}/search/"' in page


def test_room_search_of_a_private_room_is_404_and_of_a_banned_room_403(client, user, rooms):
    say(rooms["others_private"], "lunch in secret")
    client.force_login(user)
    response = client.get(f"/rooms/{rooms['others_private'].slug}/search/", {"q": "lunch"})
    assert response.status_code == 404 and b"secret" not in response.content
    response = client.get(f"/rooms/{rooms['banned_public'].slug}/search/", {"q": "lunch"})
    assert response.status_code == 403


def test_search_escapes_html_in_bodies_and_in_the_query(client, user, room):
    payload = "<script>alert('body')</script> findme <img src=x onerror=alert(1)>"
    message = Message.objects.create(
        room=room, author=user, body=payload, body_html=render_message_html(payload)
    )
    client.force_login(user)

    page = client.get("/search/", {"q": "findme"}).content.decode()
    assert f"?around={message.pk}" in page
    # Postgres drops whole tags from a headline; what is left is escaped text.
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "<mark>findme</mark> &lt;img src=x onerror=alert" in page

    hostile_query = '"><script>alert("q")</script>'
    page = client.get("/search/", {"q": hostile_query}).content.decode()
    assert '<script>alert("q")' not in page and "&lt;script&gt;alert(&quot;q&quot;)" in page


def test_htmx_search_returns_the_results_only_and_varies_on_htmx(client, user, room):
    say(room, "kubernetes upgrade")
    client.force_login(user)
    response = client.get("/search/", {"q": "kubernetes"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert "<html" not in html and 'class="search-results"' in html and "<mark>kubernetes</mark>" in html
    assert "HX-Request" in response["Vary"]


def test_older_results_link_loads_the_next_page(client, user, room):
    messages = [say(room, f"invoice {n}") for n in range(25)]
    client.force_login(user)
    page = client.get("/search/", {"q": "invoice"}).content.decode()
    link = f'/search/?q=invoice&amp;before={messages[5].pk}"'
    assert f'href="{link}' in page and f'hx-get="{link}' in page and page.count('class="search-result"') == 20

    more = client.get("/search/", {"q": "invoice", "before": messages[5].pk}, headers={"HX-Request": "true"})
    html = more.content.decode()
    assert html.count('class="search-result"') == 5 and "<ol" not in html and "search-more" not in html
    assert f"?around={messages[0].pk}" in html


def test_empty_no_match_and_too_long_queries_say_so(client, user, room):
    client.force_login(user)
    assert "every room you can read" in client.get("/search/").content.decode()
    assert "No messages match <q>nothing</q>" in client.get("/search/", {"q": "nothing"}).content.decode()
    response = client.get("/search/", {"q": "x" * 201})
    assert response.status_code == 400 and "at most 200 characters" in response.content.decode()
    htmx = client.get("/search/", {"q": "x" * 201}, headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and "at most 200 characters" in htmx.content.decode()


def test_search_needs_login_and_get(client, user, room):
    assert client.get("/search/", {"q": "x"}).status_code == 302
    assert client.get(f"/rooms/{room.slug}/search/", {"q": "x"}).status_code == 302
    client.force_login(user)
    assert client.post("/search/", {"q": "x"}).status_code == 405


def test_search_boxes_in_the_top_bar_and_the_room_header(client, member, room):
    client.force_login(member)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    top = (
        '<form class="search-box" role="search" aria-label="Search all rooms" method="get" action="/search/">'
    )
    in_room = (
        '<form class="search-box" role="search" aria-label="Search this room" method="get"'
        f' action="/rooms/{room.slug}/search/">'
    )
    assert top in page and in_room in page  # two search landmarks, each with its own name
    assert '<label for="top-search" class="visually-hidden">Search all rooms</label>' in page
    assert '<label for="room-search" class="visually-hidden">Search this room</label>' in page


@pytest.mark.parametrize("url", ["/search/", "/rooms/{slug}/search/"])
def test_search_page_query_count_does_not_grow_with_results(
    client, user, rooms, url, django_assert_num_queries
):
    room = rooms["public"]
    client.force_login(user)
    url = url.format(slug=room.slug)
    queries = GLOBAL_SEARCH_QUERIES if url == "/search/" else ROOM_SEARCH_QUERIES
    say(room, "budget meeting")
    with django_assert_num_queries(queries):
        client.get(url, {"q": "budget"})
    for n in range(30):
        say(RoomFactory() if url == "/search/" else room, f"budget {n}", author=UserFactory())
    with django_assert_num_queries(queries):
        response = client.get(url, {"q": "budget"})
    assert response.content.decode().count('class="search-result"') == 20


def test_a_reply_found_says_whom_it_answers_without_a_query_more(
    client, user, rooms, django_assert_num_queries
):
    room = rooms["public"]
    client.force_login(user)
    original = say(room, "Who owns the invoice run?", author=UserFactory(display_name="Ana"))
    gone = say(room, "Old plan", author=UserFactory(display_name="Bo"))
    for n in range(10):
        MessageFactory(room=room, body=f"invoice answer {n}", reply_to=original)
    MessageFactory(room=room, body="invoice answer to a gone one", reply_to=gone)
    Message.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())
    with django_assert_num_queries(ROOM_SEARCH_QUERIES):
        page = client.get(f"/rooms/{room.slug}/search/", {"q": "answer"}).content.decode()
    assert page.count('<span class="search-result-reply">reply to Ana</span>') == 10
    assert '<span class="search-result-reply">reply to a deleted message</span>' in page
    assert "reply to Bo" not in page
