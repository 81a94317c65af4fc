"""People in the browser (issue 13, points 3 and 6): the directory, searched as one
types; a person's page; "Message" there opens the conversation and both people chat
live; the online dot turns on when the other person opens a page and off when they
leave. Axe-clean, no horizontal scrolling at 360 px, no console error or failed request."""

import re

import pytest
from playwright.sync_api import expect

from rooms.models import Room
from tests.browser.test_direct_browser import send
from tests.browser.test_sidebar_browser import AXE, AXE_PROBLEMS, PHONE, Tabs, room_socket_open
from tests.factories import MembershipFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="session")
def people_server(asgi_server_factory):
    """A server whose pages ask who is online every second, not every 20."""
    return asgi_server_factory("people", env={"CHAT_PRESENCE_POLL_SECONDS": "1"})


def dot(page, user):
    return page.locator(f'.presence-dot[data-presence="{user.pk}"]').first


def fits_phone(page):
    page.set_viewport_size(PHONE)
    return page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]


def test_find_a_person_open_their_page_message_them_and_see_them_online(people_server, new_context):
    server = people_server
    mark = server.log_mark()
    ann = UserFactory(username="ann", display_name="Ann Archer")
    ben = UserFactory(username="ben", display_name="Benjamin Bloom", status_emoji="🚲", status_text="Cycling")
    UserFactory(username="cat", display_name="Cat Cole")
    lobby = RoomFactory(name="Lobby", created_by=ann)
    for user in (ann, ben):
        MembershipFactory(room=lobby, user=user)
    ann_tabs, ben_tabs = Tabs(new_context, server, ann), Tabs(new_context, server, ben)
    ann_tabs.context.add_init_script(path=AXE)

    people = ann_tabs.open("/people/")
    expect(people.locator(".person-card")).to_have_count(3)
    expect(dot(people, ben)).to_have_attribute("data-state", "no")
    assert people.evaluate(AXE_PROBLEMS) == []

    # Ben opens a page: his dot turns on in Ann's directory, without a reload.
    ben_page = ben_tabs.open(f"/rooms/{lobby.slug}/")
    room_socket_open(ben_page)
    expect(dot(people, ben)).to_have_attribute("data-state", "yes")
    expect(dot(people, ben)).to_contain_text("online")

    # Search as one types (htmx), by display name.
    people.get_by_label("Search people by name").fill("bloom")
    expect(people.locator(".person-card")).to_have_count(1)
    expect(people.locator(".person-card")).to_contain_text("🚲 Cycling")
    expect(people).to_have_url(re.compile(r"/people/\?q=bloom$"))
    people.get_by_role("link", name="Benjamin Bloom").click()

    expect(people).to_have_url(re.compile(r"/people/ben/$"))
    expect(people.get_by_role("heading", level=1)).to_contain_text("Benjamin Bloom")
    expect(people.locator("#shared-rooms-title + ul")).to_contain_text("Lobby")
    expect(dot(people, ben)).to_have_attribute("data-state", "yes")
    assert people.evaluate(AXE_PROBLEMS) == []
    assert fits_phone(people)
    people.set_viewport_size({"width": 1280, "height": 800})

    people.get_by_role("button", name="Message").click()
    expect(people).to_have_url(re.compile(r"/rooms/dm-[0-9a-f]+/$"))
    dm = Room.objects.get(kind=Room.Kind.DIRECT)
    room_socket_open(people)
    send(people, "hello ben, found you in People")
    ben_page.locator(f'#my-direct-links a[data-room="{dm.slug}"]').click()
    room_socket_open(ben_page)
    expect(ben_page.locator("#messages")).to_contain_text("hello ben, found you in People")
    send(ben_page, "hi ann")
    expect(people.locator("#messages")).to_contain_text("hi ann")
    # In the conversation's member list, Ben's dot is on; Ann's sidebar shows it too.
    expect(people.locator(f'#member-roll li[data-user="{ben.pk}"] .presence-dot')).to_have_attribute(
        "data-state", "yes"
    )
    expect(people.locator(f'#my-direct-links a[data-room="{dm.slug}"] .presence-dot')).to_have_attribute(
        "data-state", "yes"
    )

    # Ben closes his pages: his dot turns off on Ann's page.
    ben_tabs.context.close()
    expect(people.locator(f'#member-roll li[data-user="{ben.pk}"] .presence-dot')).to_have_attribute(
        "data-state", "no", timeout=15_000
    )
    expect(people.locator(f'#member-roll li[data-user="{ben.pk}"] .presence-dot')).to_contain_text("offline")
    assert ann_tabs.problems == [] and ben_tabs.problems == []
    server.assert_clean_log(mark)


def test_people_pages_without_script_and_at_phone_width(people_server, new_context):
    server = people_server
    ann = UserFactory(username="ann")
    for n in range(8):
        UserFactory(username=f"person{n}", display_name="A rather long display name that must wrap nicely")
    tabs = Tabs(new_context, server, ann, viewport=PHONE)
    tabs.context.add_init_script(path=AXE)
    page = tabs.open("/people/?q=person3")
    expect(page.locator(".person-card")).to_have_count(1)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    page.goto("/people/")
    expect(page.locator(".person-card")).to_have_count(9)
    assert page.evaluate(AXE_PROBLEMS) == []
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    # The search form works as a plain GET form from the keyboard.
    page.get_by_label("Search people by name").fill("person5")
    page.get_by_label("Search people by name").press("Enter")
    expect(page.locator(".person-card")).to_have_count(1)
    assert tabs.problems == []
