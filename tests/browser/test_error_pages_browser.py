"""The production-mode 404 page in a real browser (issue 12, point 5): the app's look
(its stylesheet and favicon load under the strict policy), a working way back to the
directory, no failed request or console error beyond the 404 itself, and axe-clean."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import logged_in_context
from tests.browser.test_ui_browser import AXE, AXE_PROBLEMS
from tests.factories import MembershipFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000
# Production mode over plain http on the loopback (README, Scale out).
PLAIN_HTTP = ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
PRODUCTION = {"DEBUG": "0", **dict.fromkeys(PLAIN_HTTP, "0")}


@pytest.fixture(scope="session")
def production_server(asgi_server_factory):
    return asgi_server_factory("production", env=PRODUCTION)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_404_page_looks_like_the_app_and_leads_back(production_server, new_context, scheme):
    room = RoomFactory(name="Garden")
    me = MembershipFactory(room=room).user
    context = logged_in_context(new_context, production_server, me, color_scheme=scheme)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(path=AXE)
    problems, loaded = [], []
    context.on("console", lambda m: m.type == "error" and problems.append(m.text))
    context.on("weberror", lambda e: problems.append(str(e.error)))
    context.on("requestfailed", lambda r: problems.append(f"failed {r.url}"))
    context.on("response", lambda r: loaded.append((r.status, r.url.removeprefix(production_server.url))))
    page = context.new_page()

    response = page.goto("/no-such-page/")
    assert response.status == 404 and "style-src 'self'" in response.headers["content-security-policy"]
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert page.evaluate(AXE_PROBLEMS) == []
    assert {(200, "/static/css/chat.css"), (200, "/static/favicon.svg")} <= set(loaded)
    # The top bar is laid out by chat.css (not the browser's defaults).
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).display") == "flex"
    # Chromium reports the document's own 404 as a console error; nothing else may fail.
    assert problems == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]

    page.get_by_role("link", name="Back to the rooms").click()
    expect(page).to_have_url(f"{production_server.url}/")
    expect(page.locator(f'[data-room="{room.slug}"]').first).to_be_visible()
    assert [status for status, _ in loaded if status >= 400] == [404]
