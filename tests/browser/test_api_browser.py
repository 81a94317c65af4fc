"""The API in a real browser: the tokens page makes a token (shown once, copied with
its button), the token works with fetch() against /api/v1/me, revoking it makes it
401; the page is axe-clean and fits a phone. The API docs (Swagger UI from ninja's
bundled files) load under our Content Security Policy with no console error and no
failed or outside request."""

import pytest
from playwright.sync_api import expect

from api.models import ApiToken
from tests.browser.test_ui_browser import AXE, AXE_PROBLEMS, PHONE, logged_in, page_width
from tests.browser.watch import ProblemWatch
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

FETCH_ME = """async (secret) => {
    const response = await fetch("/api/v1/me", {headers: {Authorization: `Bearer ${secret}`}});
    return [response.status, await response.json()];
}"""


def test_make_a_token_use_it_with_fetch_and_revoke_it(asgi_server, new_context):
    user = UserFactory(username="tokenista")
    context = logged_in(new_context, asgi_server, user, viewport=PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=asgi_server.url)
    context.add_init_script(path=AXE)
    watch = ProblemWatch(context, "tokenista")
    watch.expect_status(401, r"/api/v1/me$")
    page = context.new_page()

    page.goto("/")
    page.locator(".user-menu summary").click()
    page.get_by_role("link", name="API tokens").click()
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    page.get_by_label("Name").fill("my script")
    page.get_by_label("Write: read, post, edit and delete").check()
    page.get_by_role("button", name="Create token").click()

    secret_field = page.get_by_label("Token", exact=True)
    secret = secret_field.input_value()
    assert secret.startswith("chat_")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator(".token-copy-status")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    assert page.evaluate(AXE_PROBLEMS) == []
    assert page_width(page) <= PHONE["width"]

    status, me = page.evaluate(FETCH_ME, secret)
    assert status == 200 and me["username"] == "tokenista" and me["token"]["scope"] == "write"

    page.goto("/accounts/tokens/")  # shown once: not on the page again
    expect(page.locator(".token-name")).to_have_text("my script")
    assert secret not in page.content()
    assert page.evaluate(AXE_PROBLEMS) == []
    page.get_by_role("button", name="Revoke my script").click()
    expect(page.locator(".flash")).to_contain_text("revoked")
    assert ApiToken.objects.get().revoked_at is not None

    status, refused = page.evaluate(FETCH_ME, secret)
    assert status == 401 and "detail" in refused  # the session beside it changes nothing
    watch.assert_clean("tokens page")


def test_the_docs_page_loads_with_no_console_error_and_no_outside_request(asgi_server, new_context):
    context = new_context(base_url=asgi_server.url)
    watch = ProblemWatch(context, "reader")
    outside = []
    context.on("request", lambda r: r.url.startswith(asgi_server.url) or outside.append(r.url))
    page = context.new_page()
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Chat API")
    operation = page.locator(".opblock-summary-path", has_text="/api/v1/rooms/{slug}/messages")
    expect(operation.first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert outside == [] and page.locator(".validator, img[src*='validator']").count() == 0
    watch.assert_clean("API docs")
