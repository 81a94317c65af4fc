"""Security in a real browser.

1. XSS: the OWASP filter-evasion payloads (tests/xss_payloads.py) as message
   bodies (live over the socket and on reload), room names and topics, search
   queries, edit forms, the invite panel, sign-up attempts and the admin all show
   as text. This walk runs with the Content Security Policy switched off
   (`bypass_csp`), so that escaping alone is proven: a payload that got through
   would open a dialog, leave an event handler or a javascript: URL in the page,
   or fetch its script.
2. CSP: with the policy on, chatting live (send, receive, edit, report, invite,
   search) and the admin (changelist action, raw-id popup, a report in context)
   cause no violation, and the page's WebSocket is allowed by connect-src 'self'.
"""

import re
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.text import Truncator
from playwright.sync_api import expect

from config.security import CONTENT_SECURITY_POLICY
from messages_app.models import Message, Report
from messages_app.services import message_post
from rooms.models import Membership
from tests.browser.helpers import as_server_code
from tests.factories import MembershipFactory, RoomFactory, UserFactory
from tests.xss_payloads import BREAKOUTS, EVIL_ORIGIN, NAME_PAYLOADS, PAYLOADS, SAMPLE

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000
OWNER = Membership.Role.OWNER

# Anything in the page that a payload would have brought in: event handler
# attributes (htmx's hx-on too), scripting URLs, scripts from elsewhere or inline,
# frames and plugins.
FIND_INJECTED = """() => {
  const found = [];
  const urlAttributes = ["href", "src", "action", "formaction", "data", "xlink:href", "content", "style"];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\s\\u0000-\\u001f]/g, "").toLowerCase();
      const scripting = /javascript:|vbscript:|data:text\\/html|expression\\(/.test(value);
      if (/^(data-)?(on|hx-on)/.test(name) || (urlAttributes.includes(name) && scripting)) {
        found.push(el.outerHTML.slice(0, 160));
      }
    }
    if (el.localName === "script" && el.type !== "application/json") {
      const src = el.getAttribute("src");
      const ours = src && new URL(src, location.href).origin === location.origin;
      if (!ours) found.push(el.outerHTML.slice(0, 160));
    }
    const foreign = ["iframe", "frame", "object", "embed", "base"].includes(el.localName);
    if (foreign) found.push(el.outerHTML.slice(0, 160));
  }
  return found;
}"""

BODIES = """() => Object.fromEntries([...document.querySelectorAll("#messages > .message")]
  .map(m => [m.dataset.id, m.querySelector(".body").textContent.trim()]))"""

REPORT_CSP_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.reportCspViolation(`${e.violatedDirective} blocked ${e.blockedURI} at ${where}`);
});"""


class Watch:
    """What a browser context did that it must not: dialogs, requests to the
    payloads' script URL, JavaScript errors and CSP violations."""

    def __init__(self, context):
        self.dialogs, self.evil_requests, self.errors, self.violations = [], [], [], []
        context.on("dialog", self._dialog)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.errors.append(str(error.error)))
        context.route(f"{EVIL_ORIGIN}/**", self._evil)
        context.expose_function("reportCspViolation", self._violation)
        context.add_init_script(REPORT_CSP_VIOLATIONS)

    def _violation(self, text):
        self.violations.append(text)

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, message):
        if message.type == "error" or "Content Security Policy" in message.text:
            self.errors.append(message.text)

    def _evil(self, route):
        self.evil_requests.append(route.request.url)
        route.abort()


def browser_page(new_context, server, user=None, **options):
    """A page of a new browser context, logged in as `user` (or anonymous), watched."""
    context = new_context(base_url=server.url, **options)
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}
        context.add_cookies([cookie])
    watch = Watch(context)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page, watch


def assert_nothing_injected(page, where):
    assert page.evaluate(FIND_INJECTED) == [], where


def open_room(page, room):
    page.goto(room.get_absolute_url())
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1)


def wait_until(page, condition, timeout_ms=2000):
    """Wait for something the page reports to Python (exposed functions, events)."""
    for _ in range(timeout_ms // 50):
        if condition():
            return
        page.wait_for_timeout(50)


def text_of(html):
    """The text a browser shows for an HTML fragment (to compare with textContent)."""
    parts = []
    parser = HTMLParser(convert_charrefs=True)
    parser.handle_data = parts.append
    parser.feed(html)
    parser.close()
    return "".join(parts).strip()


# --- 1. XSS ---------------------------------------------------------------------------------


def payload_world():
    """Mallory (staff, a username with every special character allowed) owns rooms
    named and described with payloads; bob, her fellow member, is there too."""
    mallory = UserFactory(username="mallory.+-_@evil", is_staff=True, is_superuser=True)
    bob = UserFactory(username="bob_-.+@x")
    rooms = [
        RoomFactory(name=name, topic=NAME_PAYLOADS[-1 - n], created_by=mallory)
        for n, name in enumerate(NAME_PAYLOADS)
    ]
    for room in rooms:
        MembershipFactory(room=room, user=mallory, role=OWNER)
    MembershipFactory(room=rooms[0], user=bob)
    return mallory, bob, rooms


def check_directory(page, rooms):
    page.goto("/")
    shown = page.evaluate(
        """() => [...document.querySelectorAll(".room-card")].map(card => [
             card.querySelector("a").dataset.room,
             card.querySelector("strong").textContent,
             card.querySelector(".topic").textContent])"""
    )
    assert sorted(shown) == sorted([room.slug, room.name, room.topic] for room in rooms)
    sidebar = page.locator("#my-room-links .room-name").all_text_contents()
    assert sorted(sidebar) == sorted(room.name for room in rooms)
    assert_nothing_injected(page, "directory")


def check_room_page(page, room, messages):
    expect(page.locator("#room h1")).to_have_text(room.name)
    expect(page.locator("#room .topic")).to_have_text(room.topic)
    assert page.title() == f"{room.name} · Chat"
    expected = {str(message.pk): text_of(message.body_html) for message in messages}
    assert page.evaluate(BODIES) == expected
    for message in messages:
        if "<" in message.body:  # markup stayed text, it did not vanish into the DOM
            assert "<" in expected[str(message.pk)]
    expect(page.locator(f"#message-{messages[-1].pk}")).to_be_visible()
    assert_nothing_injected(page, f"room {room.slug}")


def check_edit_forms(page, messages):
    # One at a time: a form swapped in moves the messages below it, and a click aimed
    # at the next Edit button meanwhile could land beside it (a CI flake).
    for message in messages:
        page.locator(f"#message-{message.pk} .edit-button").click()
        expect(page.locator(f"#edit-{message.pk}")).to_have_value(message.body)
    assert_nothing_injected(page, "edit forms")


def check_invite_panel(page, payloads):
    page.locator("#invite-panel summary").click()
    for payload in payloads:
        page.locator("#invite-username").fill(payload)
        page.locator("#invite-panel .invite-form").first.locator("[type=submit]").click()
        expect(page.locator("#invite-username-errors")).to_have_text(f"There is no user named “{payload}”.")
        expect(page.locator("#invite-username")).to_have_value(payload)
    assert_nothing_injected(page, "invite panel")


def check_search(page, room, payloads):
    for payload in payloads:
        page.goto(f"/search/?q={quote(payload)}", wait_until="domcontentloaded")
        expect(page.locator("#search-q")).to_have_value(payload)
        assert page.title() == f"{payload} · Search · Chat"
        if page.locator(".search-results").count() == 0:
            expect(page.locator("#search-results q")).to_have_text(payload)
        assert_nothing_injected(page, f"search {payload}")
    # Results with excerpts of payload messages, in one room, then replaced as one types.
    page.goto(f"/rooms/{room.slug}/search/?q=onerror")
    expect(page.locator(".search-excerpt").first).to_contain_text("<img src=x onerror=")
    page.locator("#search-q").fill(payloads[0])
    expect(page.locator("#search-q")).to_have_value(payloads[0])
    expect(page).to_have_url(re.compile(r"\?q="))
    assert_nothing_injected(page, "room search")


def check_admin(page, rooms, messages, report):
    page.goto("/admin/messages_app/message/")
    excerpts = page.locator("td.field-excerpt").all_text_contents()
    assert sorted(excerpts) == sorted(Truncator(message.body).chars(80) for message in messages)
    assert_nothing_injected(page, "admin messages")
    page.goto("/admin/rooms/room/")
    assert sorted(page.locator("th.field-name a").all_text_contents()) == sorted(room.name for room in rooms)
    assert_nothing_injected(page, "admin rooms")
    for payload in PAYLOADS[:3]:
        page.goto(f"/admin/messages_app/message/?q={quote(payload)}")
        expect(page.locator("#searchbar")).to_have_value(payload)
        assert_nothing_injected(page, f"admin search {payload}")
    textarea_breakout = next(m for m in messages if m.body.startswith("</textarea>"))
    page.goto(f"/admin/messages_app/message/{textarea_breakout.pk}/change/")
    expect(page.locator(".field-body .readonly")).to_have_text(textarea_breakout.body)
    page.goto(f"/admin/rooms/room/{rooms[0].pk}/change/")
    expect(page.locator("#id_name")).to_have_value(rooms[0].name)
    expect(page.locator("#id_topic")).to_have_value(rooms[0].topic)
    page.goto(f"/admin/messages_app/report/{report.pk}/change/")
    expect(page.locator(".message-context .reported")).to_contain_text(report.message.body)
    assert_nothing_injected(page, "admin report")


def check_sign_up_refuses(page, usernames):
    users_before = get_user_model().objects.count()
    for username in usernames:
        page.goto("/accounts/signup/")
        page.fill("input[name=username]", username)
        page.fill("input[name=email]", "evil@example.com")
        page.fill("input[name=password1]", "a-Long-test-password-42")
        page.fill("input[name=password2]", "a-Long-test-password-42")
        page.locator("form:has(input[name=password2])").locator("[type=submit]").click()
        expect(page.locator("input[name=username]")).to_have_value(username)
        expect(page.get_by_text("Enter a valid username")).to_be_visible()
        assert_nothing_injected(page, f"sign-up {username}")
    assert get_user_model().objects.count() == users_before


def test_xss_payloads_show_as_text_everywhere(asgi_server, new_context):
    mark = asgi_server.log_mark()
    mallory, bob, rooms = payload_world()
    room = rooms[0]
    page, watch = browser_page(new_context, asgi_server, mallory, bypass_csp=True)
    check_directory(page, rooms)

    # Payload messages arrive live over the socket, then again from the database.
    open_room(page, room)
    messages = [as_server_code(message_post, room=room, author=mallory, body=body) for body in PAYLOADS]
    messages.append(as_server_code(message_post, room=room, author=bob, body=PAYLOADS[0]))
    expect(page.locator(f"#message-{messages[-1].pk}")).to_be_visible()
    check_room_page(page, room, messages)
    open_room(page, room)
    check_room_page(page, room, messages)
    expect(page.locator(f'#members li[data-user="{bob.pk}"]')).to_contain_text(bob.username)
    check_edit_forms(page, messages[:-1])
    open_room(page, room)
    check_invite_panel(page, BREAKOUTS[:3])

    check_search(page, room, SAMPLE)
    report = Report.objects.create(message=messages[6], reporter=bob, reason=PAYLOADS[7])
    check_admin(page, rooms, messages, report)

    anonymous, anonymous_watch = browser_page(new_context, asgi_server, bypass_csp=True)
    check_sign_up_refuses(anonymous, [BREAKOUTS[0], PAYLOADS[0]])

    for seen in (watch, anonymous_watch):
        assert seen.dialogs == [] and seen.evil_requests == []
        assert seen.errors == [], seen.errors[:6]
    assert Message.objects.filter(room=room).count() == len(PAYLOADS) + 1
    asgi_server.assert_clean_log(since=mark)


# --- 2. Content Security Policy -------------------------------------------------------------


def assert_policy_enforced(page, watch):
    """The header is there and the browser applies it: an inline script does not run
    (and its violation is reported, which shows the listener works)."""
    ran = page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.inlineRan = true";
                   document.head.appendChild(s); return window.inlineRan === true; }"""
    )
    assert ran is False
    wait_until(page, lambda: watch.violations)
    assert any(v.startswith("script-src-elem blocked inline") for v in watch.violations), watch.violations
    watch.violations.clear()
    watch.errors.clear()


def chat_live(page, room, alice, bob):
    """Send, receive, edit and report in the room; invite someone and make a link."""
    response = page.goto(room.get_absolute_url())
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1)

    page.locator("#composer-body").fill("hello under a strict policy")
    page.locator("#composer-body").press("Enter")
    mine = page.locator(".message", has_text="hello under a strict policy")
    expect(mine).to_be_visible()
    theirs = as_server_code(message_post, room=room, author=bob, body="hi **alice**")
    expect(page.locator(f"#message-{theirs.pk} .body strong")).to_have_text("alice")

    mine.locator(".edit-button").click()
    page.locator(".edit-form textarea").fill("hello, edited")
    page.locator(".edit-form [type=submit]").click()
    expect(page.locator(".message .body", has_text="hello, edited")).to_be_visible()

    page.locator(f"#message-{theirs.pk} .report-button").click()
    page.locator(f"#report-reason-{theirs.pk}").fill("spam")
    page.locator(f"#report-{theirs.pk} [type=submit]").click()
    expect(page.locator(f"#report-{theirs.pk}")).to_contain_text("Thanks")

    carol = UserFactory()
    page.locator("#invite-panel summary").click()
    page.locator("#invite-username").fill(carol.username)
    page.locator("#invite-panel .invite-form").first.locator("[type=submit]").click()
    expect(page.locator("#invite-panel .notice")).to_contain_text(f"{carol.username} is now a member")
    page.locator("#invite-panel .invite-form").nth(1).locator("[type=submit]").click()
    expect(page.locator("#invite-panel .invite-url")).to_have_count(1)
    expect(page.locator(f'#members li[data-user="{carol.pk}"]')).to_have_count(1)

    page.goto("/search/")
    page.locator("#search-q").fill("edited")
    expect(page.locator(".search-excerpt mark")).to_have_text("edited")
    return theirs


def use_admin(page, message, other_room, someone):
    """A changelist action, a raw-id lookup popup and a report shown in context."""
    page.goto("/admin/messages_app/message/")
    page.locator(f'input[name="_selected_action"][value="{message.pk}"]').check()
    page.locator('select[name="action"]').select_option("delete_messages")
    page.locator('button[name="index"]').click()
    expect(page.locator(".messagelist")).to_contain_text("1 message(s) done.")

    page.goto(f"/admin/rooms/room/{other_room.pk}/change/")
    with page.expect_popup() as popup_info:
        page.locator("#lookup_id_created_by").click()
    popup = popup_info.value
    popup.wait_for_load_state()  # the admin's scripts wire the links on load
    popup.locator(f'a[data-popup-opener="{someone.pk}"]').click()
    expect(page.locator("#id_created_by")).to_have_value(str(someone.pk))
    page.locator(".add-row a").click()  # the memberships inline's "Add another"
    expect(page.locator("#id_memberships-0-user")).to_be_visible()

    report = Report.objects.get(message=message)
    page.goto(f"/admin/messages_app/report/{report.pk}/change/")
    expect(page.locator(".message-context .reported")).to_be_visible()
    page.goto("/admin/rooms/membership/")
    expect(page.locator("#changelist")).to_be_visible()


def test_no_csp_violation_while_chatting_live_and_in_the_admin(asgi_server, new_context):
    mark = asgi_server.log_mark()
    room, other_room = RoomFactory(name="Policy"), RoomFactory(name="Elsewhere")
    alice = UserFactory(username="alice", is_staff=True, is_superuser=True)
    MembershipFactory(room=room, user=alice, role=OWNER)
    bob = MembershipFactory(room=room).user
    page, watch = browser_page(new_context, asgi_server, alice)

    page.goto("/")
    assert_policy_enforced(page, watch)
    theirs = chat_live(page, room, alice, bob)
    use_admin(page, theirs, other_room, bob)

    assert watch.violations == [] and watch.errors == [] and watch.dialogs == []
    asgi_server.assert_clean_log(since=mark)
