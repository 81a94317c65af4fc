"""Room settings and a new room's start in a real browser: the owner renames the room
(another member's header and sidebar follow live), archives it (the composer becomes a
notice, on every open page) and restores it, deletes it once its name is typed out
(other members' pages say so); a new room's empty state goes when the first message
comes. No page logs a console error or a failed request."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from messages_app.models import Message
from rooms.models import Membership, Room
from tests.browser.helpers import logged_in_context
from tests.factories import MembershipFactory, RoomFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
AXE_PROBLEMS = """async () => (await axe.run()).violations
    .filter(v => v.impact === "moderate" || v.impact === "serious" || v.impact === "critical")
    .map(v => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map(n => n.target.join(" ")).join(", ")}`)"""


class Browsers:
    """Pages of logged-in people, each watched for console errors and failed requests."""

    def __init__(self, new_context, server):
        self.new_context, self.server, self.problems = new_context, server, []

    def page(self, user, room=None, *, viewport=DESKTOP, axe=False, color_scheme="light"):
        context = logged_in_context(
            self.new_context, self.server, user, viewport=viewport, color_scheme=color_scheme
        )
        context.set_default_timeout(TIMEOUT_MS)
        if axe:
            context.add_init_script(path=AXE)
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and self.problems.append(message.text))
        page.on("pageerror", lambda error: self.problems.append(str(error)))
        page.on("requestfailed", lambda request: self.problems.append(f"failed: {request.url}"))
        if room is not None:
            page.goto(f"/rooms/{room.slug}/")
            wait_for_open_socket(page)
        return page


@pytest.fixture
def browsers(asgi_server, new_context):
    mark = asgi_server.log_mark()
    browsers = Browsers(new_context, asgi_server)
    yield browsers
    assert browsers.problems == []
    asgi_server.assert_clean_log(since=mark)


def wait_for_open_socket(page):
    expect(page.locator('#room[data-socket="open"]')).to_have_count(1)


def a_room_of_two(name="Before"):
    room = RoomFactory(name=name, topic="Old topic")
    owner = MembershipFactory(room=room, role=Membership.Role.OWNER).user
    member = MembershipFactory(room=room).user
    return room, owner, member


def open_settings(page):
    page.locator("#room-settings summary").click()
    expect(page.locator("#room-settings .room-settings-body")).to_be_visible()


def send(page, text):
    composer = page.locator("#composer-body")
    composer.fill(text)
    composer.press("Enter")
    expect(composer).to_have_value("")


def test_the_owner_renames_the_room_and_another_members_header_and_sidebar_follow_live(browsers):
    room, owner, member = a_room_of_two()
    theirs = browsers.page(member, room)
    mine = browsers.page(owner, room, axe=True)
    link = theirs.locator(f"#room-link-{room.slug}")
    expect(link.locator(".room-name")).to_have_text("Before")

    open_settings(mine)
    assert mine.evaluate(AXE_PROBLEMS) == []
    mine.get_by_label("Name", exact=True).fill("After")
    mine.get_by_label("Topic").fill("A fresh topic")
    mine.get_by_label("Private (members join by invitation only)").check()
    mine.get_by_role("button", name="Save settings").click()

    expect(mine.locator("#room-title h1")).to_contain_text("After")
    assert mine.url.endswith(f"/rooms/{room.slug}/")  # the slug stays: links keep working
    expect(theirs.locator("#room-title h1")).to_contain_text("After")
    expect(theirs.locator("#room-title h1")).to_contain_text("Private room:")
    expect(theirs.locator("#room-title .topic")).to_have_text("A fresh topic")
    expect(link.locator(".room-name")).to_have_text("After")
    expect(link).to_contain_text("Private room:")


def test_archiving_turns_every_composer_into_a_notice_and_restoring_brings_it_back(browsers):
    room, owner, member = a_room_of_two()
    theirs = browsers.page(member, room, axe=True)
    mine = browsers.page(owner, room)
    notice = theirs.locator("#room-notice .archived-notice")

    open_settings(mine)
    mine.get_by_role("button", name="Archive the room").click()

    expect(
        mine.locator("#room-settings").get_by_role("button", name="Restore the room", include_hidden=True)
    ).to_have_count(1)
    expect(notice).to_contain_text("This room is archived.")
    expect(theirs.locator("#composer")).to_be_hidden()
    expect(notice.get_by_role("button", name="Restore the room")).to_be_hidden()  # the owner's alone
    expect(theirs.locator(f"#room-link-{room.slug} .archived-mark")).to_be_visible()
    assert theirs.evaluate(AXE_PROBLEMS) == []
    expect(mine.locator("#composer")).to_be_hidden()
    wait_for_open_socket(mine)

    mine.locator("#room-notice").get_by_role("button", name="Restore the room").click()

    expect(
        mine.locator("#room-settings").get_by_role("button", name="Archive the room", include_hidden=True)
    ).to_have_count(1)
    expect(notice).to_have_count(0)
    expect(theirs.locator("#composer")).to_be_visible()
    expect(theirs.locator(f"#room-link-{room.slug} .archived-mark")).to_have_count(0)
    send(theirs, "open again")
    expect(mine.locator("#messages .message").last).to_contain_text("open again")


def test_the_owner_deletes_the_room_once_its_name_is_typed_and_members_learn_it_is_gone(browsers):
    room, owner, member = a_room_of_two(name="Doomed")
    MembershipFactory(user=member)  # another room, so that the sidebar is not empty after
    theirs = browsers.page(member, room)
    mine = browsers.page(owner, room, axe=True, color_scheme="dark")

    open_settings(mine)
    assert mine.evaluate(AXE_PROBLEMS) == []  # the panel and its red button, in dark mode
    mine.get_by_label("type its name").fill("doomed")
    mine.get_by_role("button", name="Delete the room").click()
    expect(mine.locator("#room-settings-error")).to_contain_text("Type the room's name, “Doomed”")
    expect(mine.get_by_label("type its name")).to_be_focused()  # the field refused, to type again
    assert Room.objects.filter(pk=room.pk).exists()

    mine.get_by_label("type its name").fill("Doomed")
    mine.get_by_role("button", name="Delete the room").click()

    expect(mine.locator(".flash")).to_contain_text("Doomed was deleted.")
    assert mine.url.rstrip("/") == browsers.server.url.rstrip("/")
    expect(theirs.locator("#room-notice")).to_contain_text("Doomed was deleted by its owner.")
    expect(theirs.locator("#composer")).to_be_hidden()
    expect(theirs.locator(f"#room-link-{room.slug}")).to_have_count(0)
    expect(theirs.locator("#room .connection-lost")).to_be_hidden()  # closed for good, not reconnecting
    assert not Room.objects.filter(pk=room.pk).exists()


def test_a_new_room_shows_where_it_starts_until_the_first_message_arrives_live(browsers):
    room, owner, member = a_room_of_two(name="Fresh")
    theirs = browsers.page(member, room)
    mine = browsers.page(owner, room, axe=True)
    empty = mine.locator(".room-empty")
    expect(empty.get_by_role("heading")).to_have_text("This is the start of #Fresh")
    expect(empty.locator(".room-empty-topic")).to_have_text("Old topic")
    expect(theirs.locator(".room-empty")).to_be_visible()
    expect(theirs.locator(".room-empty").get_by_role("button", name="Invite people")).to_have_count(0)
    assert mine.evaluate(AXE_PROBLEMS) == []

    # The owner's "Invite people" opens the invite panel, focus in its field.
    empty.get_by_role("button", name="Invite people").click()
    expect(mine.locator("#invite-username")).to_be_focused()

    send(theirs, "first words")

    expect(theirs.locator("#messages .message")).to_contain_text("first words")
    expect(mine.locator("#messages .message")).to_contain_text("first words")
    expect(empty).to_be_hidden()
    expect(theirs.locator(".room-empty")).to_be_hidden()
    assert Message.objects.filter(room=room).count() == 1


def test_the_empty_states_invite_button_opens_the_room_menu_on_a_phone(browsers):
    room, owner, _ = a_room_of_two(name="Pocket")
    phone = browsers.page(owner, room, viewport=PHONE)
    expect(phone.locator("#room-tools")).to_be_hidden()

    phone.locator(".room-empty").get_by_role("button", name="Invite people").click()

    expect(phone.locator("#room-tools")).to_be_visible()
    expect(phone.locator("#invite-username")).to_be_focused()
    assert phone.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
