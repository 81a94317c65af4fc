"""`make screenshots`: the main pages in a real Chromium, written to docs/screenshots/.

Not a test that `make test` runs (pytest collects only test_*.py): run it explicitly,
`pytest tests/browser/screenshots.py`. It serves the app with the project's real server
(tests/live_server.py) on the test database, fills it with `make run`'s demo data (seed_demo), and
takes each page at desktop (1280 x 800) and phone (360 x 740) width, light and dark.
"""

from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from playwright.sync_api import expect

from messages_app import demo_data
from rooms.models import Room
from rooms.services import direct_key
from tests.browser.helpers import as_server_code, logged_in_context

pytestmark = pytest.mark.django_db(transaction=True)

OUTPUT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}
SCHEMES = ("light", "dark")
TIMEOUT_MS = 15_000


def demo_world():
    """What `make run` shows a newcomer: seed_demo's people, rooms and conversation."""
    call_command("seed_demo", stdout=StringIO())
    people = {user.username: user for user in get_user_model().objects.all()}
    group = Room.objects.get(direct_key=direct_key(people[name].pk for name in demo_data.GAME_NIGHT.people))
    return people, Room.objects.get(slug="lobby"), group


def shoot(page, name):
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")
    page.screenshot(path=OUTPUT_DIR / f"{name}.png")


def test_screenshots(asgi_server, new_context):
    people, lobby, group = as_server_code(demo_world)
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    # Someone else has the room open: the member list shows who is here now.
    bob_page = logged_in_context(new_context, asgi_server, people["bob"]).new_page()
    bob_page.goto(f"/rooms/{lobby.slug}/")
    expect(bob_page.locator('#room[data-socket="open"]')).to_have_count(1, timeout=TIMEOUT_MS)

    for size_name, viewport in SIZES.items():
        for scheme in SCHEMES:
            suffix = f"{size_name}-{scheme}"
            options = {"viewport": viewport, "color_scheme": scheme}
            page = logged_in_context(new_context, asgi_server, people[demo_data.LOGIN], **options).new_page()
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
            page.goto(f"/rooms/{group.slug}/")
            expect(page.locator('#room[data-socket="open"]')).to_have_count(1)
            shoot(page, f"conversation-{suffix}")
            page.goto("/people/")
            shoot(page, f"people-{suffix}")
            page.context.close()

            page = new_context(base_url=asgi_server.url, **options).new_page()
            page.goto("/accounts/signup/")
            shoot(page, f"signup-{suffix}")
            page.context.close()
