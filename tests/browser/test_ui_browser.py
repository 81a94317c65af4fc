"""The interface in a real browser: sign-up to chatting from the keyboard, the
"New messages" pill, the reconnect banner, the phone layout and its drawers (popovers),
dark mode (a cookie), the live log staying quiet for history, and axe-core's
accessibility check."""

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messages_app.services import message_post
from tests.browser.helpers import as_server_code, logged_in_context
from tests.factories import PASSWORD, MembershipFactory, MessageFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
LIGHT_BACKGROUND = "rgb(244, 245, 247)"  # --bg in chat.css
DARK_BACKGROUND = "rgb(19, 20, 24)"
# Vendored from npm (axe-core). Injected as an init script: the page's Content Security
# Policy refuses the inline <script> that page.add_script_tag would add.
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
AXE_PROBLEMS = """async () => (await axe.run()).violations
    .filter(v => v.impact === "moderate" || v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)"""


def logged_in(new_context, server, user, *, viewport=DESKTOP, **options):
    """A browser context with a session for `user` (made here, in the shared database)."""
    context = logged_in_context(new_context, server, user, viewport=viewport, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def open_room(context, room):
    page = context.new_page()
    page.goto(f"/rooms/{room.slug}/")
    wait_for_open_socket(page)
    return page


def wait_for_open_socket(page):
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1, timeout=TIMEOUT_MS)


def sign_up(page, username):
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.locator(".whoami")).to_contain_text(username)


def focused_id(page):
    return page.evaluate("document.activeElement && document.activeElement.id")


def page_width(page):
    return page.evaluate("document.scrollingElement.scrollWidth")


def test_sign_up_create_invite_and_chat_both_ways_from_the_keyboard(asgi_server, new_context):
    mark = asgi_server.log_mark()
    tag = uuid.uuid4().hex[:6]
    alice = new_context(base_url=asgi_server.url, viewport=DESKTOP).new_page()
    bob = new_context(base_url=asgi_server.url, viewport=DESKTOP).new_page()
    for page in (alice, bob):
        page.set_default_timeout(TIMEOUT_MS)
    sign_up(alice, f"alice{tag}")
    sign_up(bob, f"bob{tag}")

    alice.goto("/rooms/new/")
    alice.get_by_label("Name").fill(f"Den {tag}")
    alice.get_by_label("Private").check()
    alice.get_by_role("button", name="Create room").click()
    expect(alice.locator("#room h1")).to_contain_text(f"Den {tag}")
    room_path = re.sub(r"^https?://[^/]+", "", alice.url)
    bob.goto("/")
    expect(bob.locator(f'#my-room-links a[href="{room_path}"]')).to_have_count(0)

    # The owner's "Invite people" panel, by username.
    alice.locator("#invite-panel summary").click()
    alice.get_by_label("Add someone by username").fill(f"bob{tag}")
    alice.get_by_role("button", name="Invite", exact=True).click()
    expect(alice.locator("#invite-panel .notice")).to_contain_text(f"bob{tag}")
    expect(alice.locator("#members")).to_contain_text(f"bob{tag}")
    bob.goto("/")
    bob.locator(f'#my-room-links a[href="{room_path}"]').click()
    wait_for_open_socket(bob)
    wait_for_open_socket(alice)

    # Shift+Enter makes a new line, Enter sends; the focus stays in the composer.
    composer = alice.locator("#composer-body")
    composer.click()
    composer.press_sequentially("first line")
    composer.press("Shift+Enter")
    composer.press_sequentially("second line")
    expect(composer).to_have_value("first line\nsecond line")
    composer.press("Enter")
    expect(composer).to_have_value("")
    assert focused_id(alice) == "composer-body"
    sent = bob.locator("#messages > .message").last
    expect(sent.locator(".body")).to_have_text(re.compile(r"first line\s+second line"))

    # Bob answers with the Send button: his focus goes back to the composer too.
    bob.locator("#composer-body").fill("Hi Alice")
    bob.get_by_role("button", name="Send").click()
    expect(alice.locator("#messages > .message").last).to_contain_text("Hi Alice")
    expect(bob.locator("#composer-body")).to_have_value("")
    assert focused_id(bob) == "composer-body"

    # Two messages of Alice in a row: one avatar and name for the run, on both pages.
    composer.fill("a second thought")
    composer.press("Enter")
    composer.fill("and a third")
    composer.press("Enter")
    for page in (alice, bob):
        messages = page.locator("#messages > .message")
        expect(messages).to_have_count(4)
        expect(messages.nth(3)).to_have_class(re.compile(r"\bcontinued\b"))
        expect(messages.nth(2)).not_to_have_class(re.compile(r"\bcontinued\b"))
        expect(messages.nth(3).locator(".avatar")).to_be_hidden()
        expect(messages.nth(2).locator(".avatar")).to_be_visible()
        expect(messages.nth(2).locator(".avatar")).to_have_text("A")
        expect(messages.nth(1).locator(".avatar")).to_have_text("B")
        expect(messages.nth(2).locator(".avatar")).to_have_class(re.compile(r"\bhue-\d+\b"))
        expect(messages.nth(2).locator(".author")).to_be_visible()
        expect(messages.nth(3).locator(".author")).to_have_text(f"alice{tag}")  # still read out
        expect(messages.nth(3).locator("time[data-relative] .ago")).to_have_text("just now")
        expect(messages.nth(3).locator("time[data-relative]")).to_have_attribute(
            "title", re.compile(r"\d{4}")
        )
        expect(messages.nth(3).locator("time[data-relative]")).to_have_attribute(
            "datetime", re.compile(r"^\d{4}-\d\d-\d\dT")
        )
    hues = {alice.locator(".message .avatar").nth(i).get_attribute("class") for i in range(2)}
    assert len(hues) == 2, "Alice and Bob get different colours"
    # The same fragment on both pages; the viewer's stylesheet (viewer.css) marks what is theirs.
    alice_message_there = bob.locator("#messages > .message").nth(2)
    alice_message_there.hover()
    expect(alice_message_there.locator(".report-button")).to_be_visible()
    expect(alice_message_there.locator(".edit-button")).to_be_hidden()
    own = alice.locator("#messages > .message").nth(2)
    # The invite panel, which lies over the messages, closed at the click in the composer.
    expect(alice.get_by_label("Add someone by username")).to_be_hidden()
    own.hover()
    expect(own.locator(".edit-button")).to_be_visible()
    expect(own.locator(".report-button")).to_be_hidden()
    assert own.evaluate("m => getComputedStyle(m).backgroundColor") != alice_message_there.evaluate(
        "m => getComputedStyle(m).backgroundColor"
    )

    # A counter appears near the 4,000-character limit; the box grows, up to a point.
    count = alice.locator("#composer-count")
    one_line = composer.bounding_box()["height"]
    expect(count).to_be_hidden()
    composer.fill("x" * 3600)
    expect(count).to_be_visible()
    expect(count).to_have_text("3,600 / 4,000")
    expect(count).not_to_have_class(re.compile("near-limit"))
    composer.fill("y" * 3950)
    expect(count).to_have_class(re.compile("near-limit"))
    assert one_line < composer.bounding_box()["height"] <= 12 * 16 + 1
    composer.fill("three\nshort\nlines")
    expect(count).to_be_hidden()
    assert one_line < composer.bounding_box()["height"] < 12 * 16
    asgi_server.assert_clean_log(since=mark)


def test_a_new_messages_pill_shows_while_scrolled_up_and_takes_the_reader_down(asgi_server, new_context):
    room = RoomFactory()
    reader, talker = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    MessageFactory.create_batch(45, room=room, author=talker)
    page = open_room(logged_in(new_context, asgi_server, reader), room)
    pill = page.locator(".jump-newest")
    expect(pill).to_be_hidden()

    # At the bottom, a new message is followed.
    followed = as_server_code(message_post, room=room, author=talker, body="followed at the bottom")
    expect(page.locator(f"#message-{followed.pk}")).to_be_in_viewport()
    expect(pill).to_be_hidden()

    # Up in the history: the view stays, and the pill says something new came.
    page.locator("#messages").evaluate("list => { list.scrollTop = 0; }")
    expect(pill).to_be_visible()
    expect(pill).to_have_text(re.compile(r"^Jump to newest"), use_inner_text=True)
    arrived = as_server_code(message_post, room=room, author=talker, body="arrived while you were reading")
    expect(page.locator(f"#message-{arrived.pk}")).to_have_count(1)
    expect(pill).to_have_text(re.compile(r"^New messages"), use_inner_text=True)
    expect(page.locator(f"#message-{arrived.pk}")).not_to_be_in_viewport()
    assert page.locator("#messages").evaluate("list => list.scrollTop") == 0

    pill.click()
    expect(page.locator(f"#message-{arrived.pk}")).to_be_in_viewport()
    expect(pill).to_be_hidden()
    assert focused_id(page) == "composer-body"
    # Scrolled up again with nothing new: the plain "Jump to newest".
    page.locator("#messages").evaluate("list => { list.scrollTop = 0; }")
    expect(pill).to_have_text(re.compile(r"^Jump to newest"), use_inner_text=True)


def test_times_read_relative_and_move_on_every_30_seconds_and_runs_end_after_5_minutes(
    asgi_server, new_context
):
    room = RoomFactory()
    member = MembershipFactory(room=room).user
    now = timezone.now()
    earlier = MessageFactory(room=room, author=member, created_at=now - timedelta(minutes=9))
    close_by = MessageFactory(room=room, author=member, created_at=now - timedelta(minutes=6))
    message = MessageFactory(room=room, author=member, created_at=now)
    context = logged_in(new_context, asgi_server, member)
    page = context.new_page()
    page.clock.install()  # time flows as usual until the test moves it on
    page.goto(f"/rooms/{room.slug}/")
    continued = re.compile(r"\bcontinued\b")
    expect(page.locator(f"#message-{close_by.pk}")).to_have_class(continued)  # 3 minutes after
    expect(page.locator(f"#message-{message.pk}")).not_to_have_class(continued)  # 6 minutes after
    expect(page.locator(f"#message-{earlier.pk} time[data-relative] .ago")).to_have_text("9 min ago")
    time = page.locator(f"#message-{message.pk} time[data-relative]")
    expect(time.locator(".ago")).to_have_text("just now")
    expect(time.locator(".ago")).to_have_attribute("aria-hidden", "true")  # read out: the exact time
    page.clock.fast_forward("03:10")
    expect(time.locator(".ago")).to_have_text("3 min ago")
    page.clock.fast_forward("02:00:00")
    expect(time.locator(".ago")).to_have_text("2 h ago")


def test_history_pages_go_into_the_live_log_while_it_is_quiet(asgi_server, new_context):
    """Only new messages are announced: a page of older messages goes in while the
    log is aria-busy with aria-live off; a live message arrives while it is polite."""
    room = RoomFactory()
    reader, talker = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    MessageFactory.create_batch(80, room=room, author=talker)
    page = open_room(logged_in(new_context, asgi_server, reader), room)
    log = page.locator("#messages")
    expect(log).to_have_attribute("role", "log")
    expect(log).to_have_attribute("aria-live", "polite")
    page.evaluate(
        """() => {
            window.insertions = [];
            new MutationObserver(records => records.forEach(record => record.addedNodes.forEach(node => {
                if (node.classList && node.classList.contains("message")) window.insertions.push(
                    [Number(node.dataset.id), record.target.getAttribute("aria-live"),
                     record.target.getAttribute("aria-busy")]);
            }))).observe(document.getElementById("messages"), { childList: true });
        }"""
    )
    # One long run of one author: the older page joins it, and the reader's place stays put.
    first_shown = page.locator(f"#{page.locator('#messages > .message').first.get_attribute('id')}")
    top_before = log.evaluate(
        "list => { list.scrollTop = 0; return list.querySelector('.message').getBoundingClientRect().top; }"
    )
    expect(page.locator("#messages > .message")).to_have_count(80)
    assert abs(first_shown.bounding_box()["y"] - top_before) < 2
    expect(page.locator("#messages > .message.continued")).to_have_count(79)
    expect(log).to_have_attribute("aria-live", "polite")
    expect(log).not_to_have_attribute("aria-busy", "true")
    live = as_server_code(message_post, room=room, author=talker, body="a new one")
    expect(page.locator(f"#message-{live.pk}")).to_have_count(1)

    insertions = page.evaluate("window.insertions")
    older = [entry for entry in insertions if entry[0] != live.pk]
    assert len(older) == 30
    assert {(aria_live, busy) for _, aria_live, busy in older} == {("off", "true")}
    assert [entry for entry in insertions if entry[0] == live.pk] == [[live.pk, "polite", None]]


def test_a_banner_says_the_connection_is_lost_until_the_server_is_back(asgi_server_factory, new_context):
    server = asgi_server_factory("ui-banner")
    room = RoomFactory()
    member = MembershipFactory(room=room).user
    page = open_room(logged_in(new_context, server, member), room)
    banner = page.locator(".connection-lost")
    expect(page.locator(".connection-status[role=status]")).to_have_count(1)
    expect(banner).to_be_hidden()

    server.stop()
    expect(page.locator('#room[data-socket="closed"]')).to_have_count(1)
    expect(banner).to_be_visible()
    expect(banner).to_have_text("Connection lost, reconnecting…")

    restarted = asgi_server_factory("ui-banner-back", port=server.port)
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1, timeout=20_000)
    expect(banner).to_be_hidden()
    restarted.assert_clean_log()


def test_phone_layout_fits_360_pixels_and_its_panels_open_and_close(asgi_server, new_context):
    room = RoomFactory(name="A room with a rather long name for a phone", topic="and a long topic " * 5)
    member = MembershipFactory(room=room, role="owner").user
    MembershipFactory.create_batch(3, room=room)
    MessageFactory(room=room, author=member, body="https://example.com/" + "a-very-long-path" * 12)
    MessageFactory(room=room, author=member, body="```\n" + "code " * 60 + "\n```")
    MessageFactory(room=room, author=member, body="searchable words")

    visitor = new_context(base_url=asgi_server.url, viewport=PHONE).new_page()
    for path in ("/accounts/signup/", "/accounts/login/"):
        visitor.goto(path)
        assert page_width(visitor) <= 360, path
    page = logged_in(new_context, asgi_server, member, viewport=PHONE).new_page()
    for path in ("/", "/rooms/new/", "/search/?q=searchable", f"/rooms/{room.slug}/"):
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
        assert page_width(page) <= 360, path
    wait_for_open_socket(page)

    def toggle(name):
        return page.locator(f'.panel-toggle[popovertarget="{name}"]')

    def is_open(name):
        return page.evaluate("name => document.getElementById(name).matches(':popover-open')", name)

    sidebar, members, tools = page.locator("#sidebar"), page.locator("#members"), page.locator("#room-tools")
    for panel in (sidebar, members, tools):
        expect(panel).to_be_hidden()
    expect(page.locator("#composer-body")).to_be_in_viewport()
    expect(page.locator("#members-fold")).to_be_hidden()  # the wide screens' control

    # The rooms drawer: opened by its button, closed with Escape (the focus goes back).
    toggle("sidebar").click()
    expect(sidebar).to_be_in_viewport()
    assert is_open("sidebar")
    expect(sidebar.locator(f'a[data-room="{room.slug}"]')).to_be_visible()
    page.keyboard.press("Tab")  # the next stop after the button is the drawer's first link
    assert page.evaluate("document.activeElement.closest('#sidebar') !== null")
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    assert not is_open("sidebar")
    assert page.evaluate("document.activeElement.getAttribute('popovertarget')") == "sidebar"

    # The member drawer: closed by a tap beside it.
    toggle("members").click()
    expect(members).to_be_in_viewport()
    expect(members.locator("#member-roll li[data-user]")).to_have_count(4)
    expect(members.locator("#presence li[data-user]")).to_have_count(1)  # the owner, here now
    page.mouse.click(20, 400)
    expect(members).to_be_hidden()

    # The room's tools (search, invite, settings, leave): its button opens and closes them.
    toggle("room-tools").click()
    expect(tools.get_by_role("searchbox")).to_be_visible()
    expect(tools.get_by_role("button", name="Leave room")).to_be_visible()
    assert page_width(page) <= 360
    toggle("room-tools").click()
    expect(tools).to_be_hidden()

    # One panel at a time.
    toggle("room-tools").click()
    expect(tools).to_be_visible()
    toggle("sidebar").click()
    expect(sidebar).to_be_in_viewport()
    expect(tools).to_be_hidden()
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()

    page.locator("#composer-body").fill("sent from a phone")
    page.locator("#composer-body").press("Enter")
    expect(page.locator("#messages > .message").last).to_contain_text("sent from a phone")
    assert page_width(page) <= 360

    # A tablet: the sidebar is back in the layout, closed popover or not; the member list still a drawer.
    page.set_viewport_size({"width": 820, "height": 1000})
    expect(sidebar).to_be_in_viewport()
    assert not is_open("sidebar")
    expect(toggle("sidebar")).to_be_hidden()
    expect(page.locator("#messages")).to_be_in_viewport()
    assert page.locator("#messages").bounding_box()["x"] >= sidebar.bounding_box()["width"]
    toggle("members").click()
    expect(members).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(members).to_be_hidden()
    assert page_width(page) <= 820


def test_the_member_list_folds_away_on_wide_screens_and_stays_folded(asgi_server, new_context):
    room = RoomFactory()
    member = MembershipFactory(room=room).user
    page = open_room(logged_in(new_context, asgi_server, member), room)
    members, toggle = page.locator("#members"), page.locator("#members-fold button")
    expect(members).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator(".panel-toggle")).to_have_count(3)
    for drawer_button in page.locator(".panel-toggle").all():  # the panels are all in the layout
        expect(drawer_button).to_be_hidden()
    wide = page.locator("#messages").bounding_box()["width"]

    toggle.click()
    expect(members).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert focused_id(page) == "members-fold-button"  # the form was swapped, the focus kept
    assert page.locator("#messages").bounding_box()["width"] > wide
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1)  # no reload
    page.reload()
    expect(members).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(members).to_be_visible()
    page.reload()
    expect(members).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")


THEME_WHEN_BODY_STARTS = """
    new MutationObserver((records, observer) => {
        if (!document.body) return;
        window.themeAtFirstPaint = document.documentElement.dataset.theme || "system";
        observer.disconnect();
    }).observe(document, { childList: true, subtree: true });
"""


def test_dark_mode_follows_the_system_and_the_toggle_is_remembered(asgi_server, new_context):
    room = RoomFactory()
    member = MembershipFactory(room=room).user
    context = logged_in(new_context, asgi_server, member, color_scheme="light")
    context.add_init_script(THEME_WHEN_BODY_STARTS)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: message.type in ("error", "warning") and errors.append(message.text))
    to_dark = page.get_by_role("button", name="Dark mode")
    to_light = page.get_by_role("button", name="Light mode")

    def background():
        return page.evaluate("getComputedStyle(document.documentElement).backgroundColor")

    page.goto(f"/rooms/{room.slug}/")
    wait_for_open_socket(page)
    assert background() == LIGHT_BACKGROUND
    expect(to_light).to_have_count(0)  # only the button that changes the look is shown
    to_dark.click()
    expect(to_light).to_be_visible()
    expect(to_dark).to_have_count(0)
    assert background() == DARK_BACKGROUND
    assert focused_id(page) == "" and page.evaluate("document.activeElement.value") == "light"  # kept
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1)  # switched in place: no reload

    page.goto("/")
    assert page.evaluate("window.themeAtFirstPaint") == "dark"  # set before the body: no light flash
    assert background() == DARK_BACKGROUND
    page.reload()
    expect(to_light).to_be_visible()
    assert background() == DARK_BACKGROUND
    to_light.click()
    expect(to_dark).to_be_visible()
    assert background() == LIGHT_BACKGROUND
    page.reload()
    assert page.evaluate("window.themeAtFirstPaint") == "light"
    assert background() == LIGHT_BACKGROUND
    assert errors == []

    # No choice made: the system's scheme, and the switch offers the other one.
    dark_system = logged_in(new_context, asgi_server, member, color_scheme="dark").new_page()
    dark_system.goto("/")
    expect(dark_system.get_by_role("button", name="Light mode")).to_be_visible()
    expect(dark_system.get_by_role("button", name="Dark mode")).to_have_count(0)
    assert (
        dark_system.evaluate("getComputedStyle(document.documentElement).backgroundColor") == DARK_BACKGROUND
    )


def test_without_javascript_the_drawers_and_the_theme_still_work(asgi_server, new_context):
    """Popovers and plain forms: nothing here needs a script."""
    room = RoomFactory()
    member = MembershipFactory(room=room).user
    context = logged_in(new_context, asgi_server, member, viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"/rooms/{room.slug}/")
    page.locator('.panel-toggle[popovertarget="members"]').click()
    expect(page.locator("#members")).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(page.locator("#members")).to_be_hidden()
    page.get_by_role("button", name="Dark mode").click()  # a POST answered by a redirect back
    expect(page).to_have_url(re.compile(rf"/rooms/{room.slug}/$"))
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    expect(page.get_by_role("button", name="Light mode")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_moderate_serious_or_critical_problem(asgi_server, new_context, scheme):
    room = RoomFactory(topic="Everything about the garden")
    other_room = RoomFactory(is_private=True)
    me, friend = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    MembershipFactory(room=other_room, user=me)
    MessageFactory(room=room, author=friend, body="Tomatoes are **ripe**; see `notes.txt`")
    MessageFactory(room=room, author=me, body="Lovely, I will pick some tomatoes")
    MessageFactory(room=other_room, author=friend, body="unread here")
    as_server_code(message_post, room=room, author=friend, body=f"@{me.username} did you see the tomatoes?")
    desktop_pages = {"directory": "/", "room": f"/rooms/{room.slug}/", "search": "/search/?q=tomatoes"}
    phone_pages = {"room": desktop_pages["room"]}  # the layout that changes most on a phone
    problems = {}
    for viewport, pages in ((DESKTOP, desktop_pages), (PHONE, phone_pages)):
        context = logged_in(new_context, asgi_server, me, viewport=viewport, color_scheme=scheme)
        context.add_init_script(path=AXE)
        page = context.new_page()
        for name, path in pages.items():
            page.goto(path)
            if name == "room":
                wait_for_open_socket(page)
            if name == "search":
                expect(page.locator(".search-result")).to_have_count(3)
            problems[name, viewport["width"]] = page.evaluate(AXE_PROBLEMS)
    visitor = new_context(base_url=asgi_server.url, viewport=DESKTOP, color_scheme=scheme)
    visitor.add_init_script(path=AXE)
    signup = visitor.new_page()
    signup.goto("/accounts/signup/")
    problems["signup", DESKTOP["width"]] = signup.evaluate(AXE_PROBLEMS)
    assert {page: found for page, found in problems.items() if found} == {}
