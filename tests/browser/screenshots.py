"""`make screenshots`: the main pages in a real Chromium, written to docs/screenshots/.

Not a test that `make test` runs (pytest collects only test_*.py): run it explicitly,
`pytest tests/browser/screenshots.py`. It serves the app with the project's real server
(tests/live_server.py) on the test database, fills it with a small believable chat, and
takes each page at desktop (1280 x 800) and phone (360 x 740) width, light and dark.
"""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messages_app.models import Message
from messages_app.services import message_post
from messages_app.text import render_message_html
from rooms.models import Membership
from rooms.services import room_create, room_join
from tests.browser.helpers import as_server_code, logged_in_context
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

OUTPUT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}
SCHEMES = ("light", "dark")
TIMEOUT_MS = 15_000

# (author, minutes ago, text): yesterday's end of the day, then this morning.
LOBBY = [
    ("carol", 22 * 60, "Has anyone tried the new layout on a phone?"),
    ("carol", 22 * 60 - 1, "The rooms and the member list slide in as drawers."),
    ("bob", 22 * 60 - 6, "Yes, and dark mode follows the system setting. There is a toggle too."),
    ("alice", 150, "Good morning!"),
    ("alice", 149, "I put the **release notes** in the wiki."),
    ("dave", 120, "Thanks. Does `make screenshots` run in CI?"),
    ("bob", 95, "No, on demand: it writes the pictures to `docs/screenshots/`."),
    ("bob", 94, "And the README shows them."),
    ("carol", 61, "Messages from one person in a row now share one avatar and name."),
    ("alice", 33, "Shift+Enter for a new line,\nEnter to send."),
    ("dave", 12, "See you at the demo at 3."),
    ("carol", 4, "Agenda: https://example.com/demo"),
]


def create_messages(room, people, lines):
    now = timezone.now()
    Message.objects.bulk_create(
        Message(
            room=room,
            author=people[author],
            body=body,
            body_html=render_message_html(body),
            created_at=now - timedelta(minutes=minutes),
        )
        for author, minutes, body in lines
    )


def demo_chat():
    """Four people, three public rooms and a private one, with unread messages and a mention."""
    people = {name: UserFactory(username=name) for name in ("alice", "bob", "carol", "dave")}
    alice = people["alice"]
    lobby = room_create(name="Lobby", topic="Say hello to everyone", created_by=alice)
    design = room_create(name="Design", topic="Colours, layout and type", created_by=people["carol"])
    random_room = room_create(name="Random", topic="Anything goes", created_by=people["dave"])
    team = room_create(name="Team", topic="Members only", is_private=True, created_by=alice)
    for name in ("bob", "carol", "dave"):
        room_join(room=lobby, user=people[name])
    for room in (design, random_room):
        for name in ("alice", "bob"):
            room_join(room=room, user=people[name])
    Membership.objects.create(room=team, user=people["bob"])
    create_messages(lobby, people, LOBBY)
    create_messages(random_room, people, [("dave", 200 - n, f"Random thought number {n}") for n in range(12)])
    create_messages(team, people, [("bob", 300, "Plans for next week are in the doc.")])
    newest = Message.objects.order_by("-id")[0].pk
    Membership.objects.filter(user=alice).exclude(room=random_room).update(last_read_message_id=newest)
    message_post(
        room=design, author=people["carol"], body="@alice could you check the contrast of the new palette?"
    )
    message_post(room=design, author=people["bob"], body="Dark mode looks good to me.")
    return people, lobby


def shoot(page, name):
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")
    page.screenshot(path=OUTPUT_DIR / f"{name}.png")


def test_screenshots(asgi_server, new_context):
    people, lobby = as_server_code(demo_chat)
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    # Someone else has the room open: the member list shows who is here now.
    bob_page = logged_in_context(new_context, asgi_server, people["bob"]).new_page()
    bob_page.goto(f"/rooms/{lobby.slug}/")
    expect(bob_page.locator('#room[data-socket="open"]')).to_have_count(1, timeout=TIMEOUT_MS)

    for size_name, viewport in SIZES.items():
        for scheme in SCHEMES:
            suffix = f"{size_name}-{scheme}"
            options = {"viewport": viewport, "color_scheme": scheme}
            page = logged_in_context(new_context, asgi_server, people["alice"], **options).new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto("/")
            shoot(page, f"directory-{suffix}")
            page.goto(f"/rooms/{lobby.slug}/")
            expect(page.locator('#room[data-socket="open"]')).to_have_count(1)
            expect(page.locator("#presence li[data-user]")).to_have_count(2)
            shoot(page, f"room-{suffix}")
            page.goto("/search/?q=screenshots")
            expect(page.locator(".search-result").first).to_be_visible()
            shoot(page, f"search-{suffix}")
            page.context.close()

            page = new_context(base_url=asgi_server.url, **options).new_page()
            page.goto("/accounts/signup/")
            shoot(page, f"signup-{suffix}")
            page.context.close()
