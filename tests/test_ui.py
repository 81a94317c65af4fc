"""The interface's server side: avatars from initials and a colour per user, the markup
ui.js and chat.css build on (popovers, the banner), the reader's choices kept in cookies
(theme, member list folded), the viewer's own stylesheet, and a page that stays as cheap
with many authors.
(The browser side is tests/browser/test_ui_browser.py.)"""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.templatetags.avatars import HUE_COUNT, hue, initials
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
    assert '<div class="connection-status" role="status"><p class="connection-lost">' in page
    assert 'aria-describedby="composer-hint composer-count"' in page and '<span id="composer-count"' in page
    for panel in ("sidebar", "room-tools", "members"):  # popovers, each opened by its button
        assert f'popovertarget="{panel}" aria-controls="{panel}"' in page
        assert re.search(rf'<[a-z]+ id="{panel}" [^>]*\bpopover\b', page), panel
    assert 'id="members-fold"' in page and 'aria-expanded="true"' in page
    assert (
        '<span class="jump-label">Jump to newest</span><span class="fresh-label">New messages</span>' in page
    )
    assert '<form id="theme-switch" class="theme-switch" method="post" action="/preferences/theme/"' in page


def test_a_reader_who_is_not_a_member_gets_no_connection_banner(client, user):
    room = RoomFactory()
    client.force_login(user)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert "Join room" in page
    assert "connection-lost" not in page


def test_pages_load_the_viewers_stylesheet_and_have_no_inline_script_or_style(client, user):
    room = RoomFactory()
    MembershipFactory(room=room, user=user)
    MessageFactory(room=room, author=user)
    client.force_login(user)
    for path in ("/", f"/rooms/{room.slug}/", "/search/?q=message", "/rooms/new/"):
        page = client.get(path).content.decode()
        head = page.split("</head>")[0]
        assert f'<link rel="stylesheet" href="/viewer.css?user={user.pk}">' in head, path
        # ui.js uses what sync.js sets up, so it comes second (deferred scripts run in order);
        # upload.js (files in the composer), conversation.js (replies, threads), notify.js (title,
        # favicon, desktop notifications) and push.js (Web Push on this device) stand alone.
        scripts = re.findall(r'<script src="/static/js/(\w+)\.js" defer></script>', head)
        assert scripts == ["sync", "ui", "upload", "conversation", "notify", "push"], path
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
    with django_assert_max_num_queries(11):  # 10th: the notification level; 11th: the reactions
        client.get(f"/rooms/{many_authors.slug}/")


# --- The reader's choices (accounts/views.py): cookies set by a POST, read by the templates ---


def test_a_theme_choice_is_a_cookie_set_by_a_post_and_the_page_is_rendered_with_it(client, user):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/preferences/theme/", {"value": "dark", "return_to": "/"}, headers={"HX-Request": "true"}
        )
    assert len(queries) == 0  # no user, no session row: just the cookie
    assert response.status_code == 200
    html = response.content.decode()
    assert '<form id="theme-switch"' in html and 'data-theme="dark"' in html
    assert re.search(r'value="light" [^>]* autofocus', html)  # the focus goes to the button now shown
    cookie = response.cookies["theme"]
    assert cookie.value == "dark" and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 365 * 24 * 60 * 60

    page = client.get("/").content.decode()
    assert '<html lang="en" data-theme="dark">' in page  # from the first byte: no flash
    assert '<form id="theme-switch" class="theme-switch"' in page and 'data-theme="dark">' in page
    client.cookies["theme"] = "<script>"  # anything else: the system's scheme
    assert '<html lang="en">' in client.get("/").content.decode()


def test_without_htmx_a_choice_redirects_back_but_never_off_site(client):
    response = client.post("/preferences/theme/", {"value": "light", "return_to": "/search/?q=a"})
    assert response.status_code == 303 and response["Location"] == "/search/?q=a"
    assert response.cookies["theme"].value == "light"
    for elsewhere in ("https://evil.example/", "//evil.example/", ""):
        response = client.post("/preferences/theme/", {"value": "light", "return_to": elsewhere})
        assert response.status_code == 303 and response["Location"] == "/"


def test_choices_need_a_post_with_the_csrf_token_and_a_known_value(client, user):
    assert client.get("/preferences/theme/").status_code == 405
    for name, value in (("theme", "purple"), ("members", "dark"), ("font", "large")):
        response = client.post(f"/preferences/{name}/", {"value": value})
        assert response.status_code == 400 and not response.cookies
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(user)
    response = guarded.post("/preferences/theme/", {"value": "dark"})
    assert response.status_code == 403 and "theme" not in response.cookies


def test_the_member_list_folded_away_is_remembered_in_the_room_page(client):
    room = RoomFactory()
    member = MembershipFactory(room=room).user
    client.force_login(member)
    fold = client.post("/preferences/members/", {"value": "closed"}, headers={"HX-Request": "true"})
    assert fold.cookies["members"].value == "closed"
    html = fold.content.decode()
    assert "data-folded" in html and 'value="open"' in html and 'aria-expanded="false"' in html

    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert re.search(r'<form id="members-fold"[^>]* data-folded>', page)
    assert 'id="members-fold-button" name="value" value="open"' in page
    client.post("/preferences/members/", {"value": "open"})
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert "data-folded" not in page and 'aria-expanded="true"' in page


def test_the_viewers_stylesheet_marks_their_own_messages_only(client, user, django_assert_max_num_queries):
    other = UserFactory()
    client.force_login(user)
    with django_assert_max_num_queries(2):  # the session and the user
        response = client.get(f"/viewer.css?user={user.pk}")
    css = response.content.decode()
    assert response["Content-Type"].startswith("text/css")
    assert response["Cache-Control"] == "private, max-age=3600"
    assert f'.message[data-author="{user.pk}"] {{ background: var(--mine); }}' in css
    assert f'.message[data-author="{user.pk}"] .edit-button' in css and f'"{other.pk}"' not in css
    # A URL naming someone else still gets the viewer's rules, and is not kept.
    response = client.get(f"/viewer.css?user={other.pk}")
    assert response["Cache-Control"] == "no-store" and f'"{user.pk}"' in response.content.decode()
    client.logout()
    assert "data-author" not in client.get("/viewer.css").content.decode()
