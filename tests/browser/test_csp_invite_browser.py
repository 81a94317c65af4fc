"""The first click of Invite under the strict Content Security Policy (issue 12, point 6).

htmx injects a <style> for its request indicators unless told not to, and the policy
(style-src 'self') refuses it: one violation, on the page's first htmx request. base.html's
htmx-config meta turns that off and chat.css carries the indicator rules instead. The
listener is in place before the page's first script, so a violation at load counts too,
and a deliberate inline <style> at the end proves that it hears them.
"""

import pytest
from playwright.sync_api import expect

from rooms.models import Membership
from tests.browser.helpers import logged_in_context
from tests.factories import MembershipFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000
REPORT_VIOLATIONS = """window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const text = `${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`;
  window.cspViolations.push(text);
  window.reportViolation(text);
});"""
# What htmx's own <style> did: hide an indicator until its element's request runs.
INDICATOR_STYLE = """() => {
  const spinner = document.createElement("span");
  spinner.className = "htmx-indicator";
  document.body.append(spinner);
  const idle = getComputedStyle(spinner).visibility;
  document.body.classList.add("htmx-request");
  const busy = getComputedStyle(spinner).visibility;
  document.body.classList.remove("htmx-request");
  spinner.remove();
  return [idle, busy];
}"""


def test_the_first_invite_click_causes_no_csp_violation(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room = RoomFactory(name="Strict")
    owner = MembershipFactory(room=room, role=Membership.Role.OWNER).user
    carol = UserFactory()
    context = logged_in_context(new_context, asgi_server, owner)
    context.set_default_timeout(TIMEOUT_MS)
    violations, errors = [], []
    context.expose_function("reportViolation", lambda text: violations.append(text))
    context.add_init_script(REPORT_VIOLATIONS)
    context.on("console", lambda m: m.type == "error" and errors.append(m.text))
    context.on("weberror", lambda e: errors.append(str(e.error)))
    context.on("requestfailed", lambda r: errors.append(f"failed {r.url}"))
    page = context.new_page()

    response = page.goto(f"/rooms/{room.slug}/")
    assert "style-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1)
    page.locator("#invite-panel").get_by_text("Invite people").click()
    page.get_by_label("Add someone by username").fill(carol.username)
    page.get_by_role("button", name="Invite", exact=True).click()
    expect(page.get_by_text(f"{carol.username} is now a member")).to_be_visible()

    assert violations == [] and errors == []
    assert page.evaluate("htmx.config.includeIndicatorStyles") is False
    assert page.evaluate(INDICATOR_STYLE) == ["hidden", "visible"]  # chat.css does what htmx's <style> did

    page.evaluate("""() => { const s = document.createElement("style"); s.textContent = "b{}";
                             document.head.append(s); }""")
    page.wait_for_function("() => window.cspViolations.length > 0")
    assert [v.split(" at ")[0] for v in page.evaluate("window.cspViolations")] == [
        "style-src-elem blocked inline"
    ]
    asgi_server.assert_clean_log(since=mark)
