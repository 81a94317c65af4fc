"""The user's rooms follow them live in every tab (issue 12, points 3, 9 and 11): a join
in one tab shows in the others (a room page, the home page, a room only read), and so do
leaving, being banned, being invited (a notice to accept or decline), answering an
invitation and a room's new name. The home page at desktop and phone width, from the keyboard, axe-clean."""

import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messages_app.models import ModerationAction
from messages_app.moderation import member_ban
from messages_app.services import message_post
from rooms.models import Membership
from rooms.services import room_invite, room_rename
from tests.browser.helpers import as_server_code, logged_in_context
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
OWNER = Membership.Role.OWNER
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
AXE_PROBLEMS = """async () => (await axe.run()).violations
    .filter(v => v.impact === "moderate" || v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)"""


# Marks the page once its sockets delivered a frame: a user's socket sends its lists first.
MARK_FRAMES = """document.addEventListener("htmx:wsAfterMessage", () => {
    document.documentElement.dataset.socketFrames = "";
});"""


class Tabs:
    """Pages of one browser context (one user, one session), with every console error
    and failed request they had."""

    def __init__(self, new_context, server, user, viewport=DESKTOP):
        self.context = logged_in_context(new_context, server, user, viewport=viewport)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.problems = []
        self.context.on("console", self._console)
        self.context.on("weberror", lambda error: self.problems.append(str(error.error)))
        self.context.on("requestfailed", self._request_failed)
        self.context.on("response", self._response)
        self.context.add_init_script(MARK_FRAMES)

    def _request_failed(self, request):
        # net::ERR_ABORTED: the page itself cancelled it, by leaving (the test navigates on
        # while a poll or the favicon is in flight, which a loaded machine makes likely).
        # A failure of the app is an HTTP error (_response) or any other network failure.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"failed {request.url} {request.failure}")

    def _console(self, message):
        if message.type == "error":
            self.problems.append(message.text)

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"{response.status} {response.url}")

    def open(self, path):
        page = self.context.new_page()
        page.goto(path)
        return page


def room_socket_open(page):
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1)


def user_socket_open(page):
    """Open, and its first frame (the page's lists, read after it subscribed) swapped in."""
    expect(page.locator('[data-user-socket][data-socket="open"]')).to_have_count(1)
    expect(page.locator("html[data-socket-frames]")).to_have_count(1)


def link(page, room):
    return page.locator(f'#my-room-links a[data-room="{room.slug}"]')


def notice(page, room):
    return page.locator(f'#my-invitations [data-invitation="{room.slug}"]')


def test_every_tab_follows_joins_leaves_bans_invitations_and_renames(asgi_server, new_context):
    mark = asgi_server.log_mark()
    me, boss = UserFactory(username="mia"), UserFactory(username="boss")
    lobby = RoomFactory(name="Lobby")
    garden = RoomFactory(name="Garden", topic="Roses and tomatoes")
    secret, attic = RoomFactory(name="Secret", is_private=True), RoomFactory(name="Attic", is_private=True)
    MembershipFactory(room=lobby, user=me)
    for room in (lobby, garden, secret, attic):
        MembershipFactory(room=room, user=boss, role=OWNER)
    tabs = Tabs(new_context, asgi_server, me)
    in_lobby = tabs.open(f"/rooms/{lobby.slug}/")  # a member's room page: the room's socket
    room_socket_open(in_lobby)
    home = tabs.open("/")  # the home page: the user's socket
    user_socket_open(home)
    reading = tabs.open(f"/rooms/{garden.slug}/")  # a public room only read: the user's socket
    user_socket_open(reading)
    expect(home.locator(f'#discover-rooms a[data-room="{garden.slug}"]')).to_have_count(1)

    # Invited while the three pages are open: a notice in each, and the room in the lists.
    as_server_code(room_invite, room=secret, invited_by=boss, username=me.username)
    for page in (in_lobby, home, reading):
        expect(notice(page, secret)).to_contain_text("boss invited you to")
        expect(notice(page, secret)).to_contain_text("Secret")
        expect(link(page, secret)).to_have_count(1)
    expect(home.get_by_role("heading", name="Invitations")).to_be_visible()

    # Accepted from the home page, with the keyboard: the notice goes from every tab.
    home.get_by_role("button", name="Accept the invitation to Secret").focus()
    home.keyboard.press("Enter")
    for page in (home, in_lobby, reading):
        expect(notice(page, secret)).to_have_count(0)
        expect(link(page, secret)).to_have_count(1)
    expect(home.get_by_role("heading", name="My rooms")).to_be_focused()  # not lost to the body
    expect(home.get_by_role("heading", name="Invitations")).to_be_hidden()

    # Joining in one tab shows the room in all three, the joining tab included (its sidebar
    # comes with the answer: the page's socket changes from the user's to the room's).
    reading.get_by_role("button", name="Join room").click()
    room_socket_open(reading)
    for page in (reading, in_lobby, home):
        expect(link(page, garden)).to_have_count(1)
    expect(home.locator(f'#discover-rooms a[data-room="{garden.slug}"]')).to_have_count(0)
    expect(link(home, garden).locator("xpath=..").locator(".topic")).to_have_text("Roses and tomatoes")

    # Leaving: gone from all three; the page is a reader's again, with the user's socket.
    reading.get_by_role("button", name="Leave room").click()
    for page in (reading, in_lobby, home):
        expect(link(page, garden)).to_have_count(0)
    expect(home.locator(f'#discover-rooms a[data-room="{garden.slug}"]')).to_have_count(1)
    expect(reading.locator('[data-user-socket][data-socket="open"]')).to_have_count(1)
    reading.get_by_role("button", name="Join room").click()
    room_socket_open(reading)
    expect(link(home, garden)).to_have_count(1)
    reading.close()

    # Banned by the owner: the room leaves the sidebar and the home page.
    as_server_code(
        member_ban, room=garden, user=me, actor=boss, source=ModerationAction.Source.PAGE, reason="spam"
    )
    for page in (in_lobby, home):
        expect(link(page, garden)).to_have_count(0)

    # Declined from the room page's sidebar: the notice and the room go from both tabs.
    as_server_code(room_invite, room=attic, invited_by=boss, username=me.username)
    expect(notice(home, attic)).to_be_visible()
    in_lobby.get_by_role("button", name="Decline the invitation to Attic").click()
    for page in (in_lobby, home):
        expect(notice(page, attic)).to_have_count(0)
        expect(link(page, attic)).to_have_count(0)
    expect(in_lobby.locator(".sidebar-title")).to_be_focused()
    assert not Membership.objects.filter(room=attic, user=me).exists()

    # Renamed by its owner: the new name in every list.
    as_server_code(room_rename, room=lobby, actor=boss, name="Front Porch")
    for page in (in_lobby, home):
        expect(link(page, lobby).locator(".room-name")).to_have_text("Front Porch")

    # Badges still follow on the home page (its socket follows the rooms it shows).
    as_server_code(message_post, room=secret, author=boss, body="welcome in")
    expect(link(home, secret)).to_have_attribute("data-unread", "1")
    expect(link(in_lobby, secret)).to_have_attribute("data-unread", "1")

    assert tabs.problems == []
    asgi_server.assert_clean_log(mark)


def home_world():
    me, friend = UserFactory(username="ned"), UserFactory(username="fern")
    mine = [RoomFactory(name=name, topic=topic) for name, topic in (("Kitchen", "Recipes"), ("Books", ""))]
    for room in mine:
        MembershipFactory(room=room, user=me)
    MessageFactory(room=mine[0], author=friend, created_at=timezone.now())
    MessageFactory(room=mine[0], author=friend, body="@ned come and taste")
    discover = RoomFactory(name="A rather long room name for a small phone screen", topic="Long " * 20)
    MembershipFactory(room=discover, user=friend)
    invited = RoomFactory(name="Workshop", is_private=True)
    MembershipFactory(room=invited, user=friend, role=OWNER)
    as_server_code(room_invite, room=invited, invited_by=friend, username=me.username)
    return me, mine, discover, invited


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_home_page_at_desktop_and_phone_width_is_usable_and_axe_clean(asgi_server, new_context, scheme):
    me, mine, discover, invited = home_world()
    problems = {}
    for viewport in (DESKTOP, PHONE):
        Membership.objects.filter(user=me).update(last_read_message_id=None)  # the room page read them
        tabs = Tabs(new_context, asgi_server, me, viewport=viewport)
        tabs.context.add_init_script(path=AXE)
        page = tabs.open("/")
        user_socket_open(page)
        width = viewport["width"]
        assert page.evaluate("document.scrollingElement.scrollWidth") <= width
        expect(page.get_by_role("heading", name="Home")).to_be_visible()
        expect(page.get_by_role("link", name="Create a room")).to_be_visible()
        expect(notice(page, invited)).to_contain_text("fern invited you to")
        expect(link(page, mine[0])).to_have_attribute("data-unread", "2")
        expect(link(page, mine[0]).locator("xpath=..").locator("time")).to_have_text(
            re.compile("ago|just now")
        )
        expect(page.locator(f'#discover-rooms a[data-room="{discover.slug}"]')).to_be_visible()
        expect(page.locator("#discover-rooms")).to_contain_text("1 member")
        if width == DESKTOP["width"]:  # two columns side by side: my rooms, then rooms to discover
            mine_box = page.locator(".my-rooms").bounding_box()
            discover_box = page.locator(".discover").bounding_box()
            assert discover_box["x"] > mine_box["x"] + mine_box["width"] - 1
            assert mine_box["width"] + discover_box["width"] > 0.7 * width
        else:  # one column, nothing cut off
            cut_off = page.evaluate(
                """width => [...document.querySelectorAll(".room-card, .invitation-card")]
                    .map(card => card.getBoundingClientRect())
                    .filter(box => box.left < 0 || box.right > width).length""",
                width,
            )
            assert cut_off == 0
            answer = page.get_by_role("button", name="Accept the invitation to Workshop").bounding_box()
            assert answer["height"] >= 44 and answer["width"] >= 44
        problems[width] = page.evaluate(AXE_PROBLEMS)
        # The keyboard reaches the create button, the invitation and every room.
        reached = []
        for _ in range(40):
            page.keyboard.press("Tab")
            reached.append(page.evaluate("document.activeElement.textContent.trim().replace(/\\s+/g, ' ')"))
        assert "Create a room" in reached
        assert "Accept the invitation to Workshop" in reached
        assert any(text.startswith("# Kitchen") for text in reached), reached
        assert any(discover.name in text for text in reached), reached
        # The room page's sidebar shows the same notice (a drawer on a phone: open it).
        page.goto(f"/rooms/{mine[0].slug}/")
        expect(page.locator('#room[data-socket="open"]')).to_have_count(1)
        if width == PHONE["width"]:
            page.get_by_role("button", name="My rooms").click()
        expect(page.get_by_role("button", name="Decline the invitation to Workshop")).to_be_visible()
        problems[f"room {width}"] = page.evaluate(AXE_PROBLEMS)
        assert tabs.problems == []
        tabs.context.close()
    assert all(found == [] for found in problems.values()), problems
