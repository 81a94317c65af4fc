"""Replies, threads and pins in real browsers (issue 16, points 1 and 3), live between two
members' pages: Reply quotes a message above the composer (Esc drops it) and the reply
arrives with a compact quote in both pages; a quote jumps to its original, loading older
pages when the page does not show it yet; "N replies" opens the thread panel, whose
composer answers live into the other page's open thread; the pins panel follows the
owner's pins; and the quotes of a deleted original say so live. By keyboard, at 360 px,
axe-clean, and no console error on the way."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from messages_app.models import Message
from messages_app.services import message_delete, message_post, message_restore
from tests.browser.helpers import as_server_code
from tests.browser.test_menus_and_editing_browser import watch_for_errors
from tests.browser.test_ui_browser import AXE, AXE_PROBLEMS, PHONE, logged_in, open_room, page_width
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def settled(page):
    """The pointer off the messages and their actions faded out (axe measures a fading
    button's contrast half-way)."""
    page.mouse.move(0, 0)
    expect(page.locator("#messages .message-actions").last).to_have_css("opacity", "0")


def quote_in(page, message):
    return page.locator(f"#messages > #message-{message.pk} > .reply-quote")


def test_reply_quotes_above_the_composer_esc_drops_it_and_the_reply_arrives_quoted_live(
    asgi_server, new_context
):
    room = RoomFactory()
    alice = MembershipFactory(room=room, user=UserFactory(display_name="Alice")).user
    bob = MembershipFactory(room=room, user=UserFactory(display_name="Bob")).user
    original = MessageFactory(room=room, author=alice, body="Shall we ship on Friday?")
    MessageFactory(room=room, author=alice, body="or Monday")
    alice_page = open_room(logged_in(new_context, asgi_server, alice), room)
    alice_errors = watch_for_errors(alice_page)
    bob_context = logged_in(new_context, asgi_server, bob, viewport=PHONE)
    bob_context.add_init_script(path=AXE)
    bob_page = open_room(bob_context, room)
    bob_errors = watch_for_errors(bob_page)
    box = bob_page.locator("#composer-reply")

    # By keyboard on the phone: the message's Reply link, Enter.
    reply_link = bob_page.locator(f"#message-{original.pk} .reply-button")
    reply_link.focus()
    reply_link.press("Enter")
    expect(box).to_be_visible()
    expect(box).to_contain_text("Replying to Alice Shall we ship on Friday?")
    expect(bob_page.locator("#composer-body")).to_be_focused()
    assert page_width(bob_page) <= PHONE["width"]
    assert bob_page.url.endswith(f"/rooms/{room.slug}/")  # the link's thread page was not opened
    settled(bob_page)
    assert bob_page.evaluate(AXE_PROBLEMS) == []

    bob_page.keyboard.press("Escape")
    expect(box).to_be_hidden()
    expect(box.locator("[name=reply_to]")).to_have_value("")
    expect(bob_page.locator("#composer-body")).to_be_focused()

    reply_link.focus()
    reply_link.press("Enter")
    bob_page.keyboard.type("Friday works")
    bob_page.keyboard.press("Enter")

    reply = None
    for page in (bob_page, alice_page):
        sent = page.locator("#messages > .message", has_text="Friday works")
        expect(sent).to_have_count(1)
        if reply is None:
            reply = Message.objects.get(body="Friday works")
        expect(sent).to_have_attribute("data-reply-to", str(original.pk))
        expect(quote_in(page, reply)).to_contain_text("Alice Shall we ship on Friday?")
        expect(page.locator(f"#message-{original.pk} .thread-link")).to_have_text("1 reply")
    assert reply.reply_to_id == original.pk
    expect(box).to_be_hidden()  # the reply is done: the next message is a plain one
    expect(box.locator("[name=reply_to]")).to_have_value("")
    assert page_width(bob_page) <= PHONE["width"]
    assert alice_errors == [] and bob_errors == []


def test_a_quote_jumps_to_its_original_loading_older_pages_as_needed(asgi_server, new_context):
    room = RoomFactory()
    alice, bob = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    old = MessageFactory(room=room, author=alice, body="the very first plan")
    MessageFactory.create_batch(130, room=room, author=alice)  # three pages before the newest
    recent = MessageFactory(room=room, author=alice, body="a recent question")
    MessageFactory.create_batch(20, room=room, author=alice)  # recent is out of view, on the page
    post = {"room": room, "author": bob}
    recent_reply = as_server_code(message_post, **post, body="recent answer", reply_to=recent.pk)
    old_reply = as_server_code(message_post, **post, body="back to the plan", reply_to=old.pk)
    page = open_room(logged_in(new_context, asgi_server, bob, viewport=PHONE), room)
    errors = watch_for_errors(page)
    shown = page.locator("#messages > .message")
    expect(shown).to_have_count(50)
    expect(page.locator(f"#message-{old.pk}")).to_have_count(0)

    # An original on the page: scrolled to and flashed.
    expect(page.locator(f"#message-{recent.pk}")).not_to_be_in_viewport()
    quote_in(page, recent_reply).locator("strong").click()  # its text (a tap beside it may hit the actions)
    expect(page.locator(f"#message-{recent.pk}")).to_be_in_viewport()
    expect(page.locator(f"#message-{recent.pk}")).to_have_class(re.compile(r"\bflash\b"))

    # An original three pages back, by keyboard: the pages before it go in, in place.
    quote_in(page, old_reply).focus()
    page.keyboard.press("Enter")
    original = page.locator(f"#messages > #message-{old.pk}")
    expect(original).to_be_in_viewport()
    expect(original).to_have_class(re.compile(r"\bflash\b"))
    assert page.url.endswith(f"/rooms/{room.slug}/")  # no ?around= reload: the page grew
    assert shown.count() == 154
    ids = [int(i) for i in shown.evaluate_all("list => list.map(m => m.dataset.id)")]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    expect(page.locator("#messages > .history-before")).to_have_count(0)  # the room's first is shown
    assert page_width(page) <= PHONE["width"]
    assert errors == []


def test_a_quote_of_a_message_more_than_ten_pages_back_opens_the_room_around_it(asgi_server, new_context):
    room = RoomFactory()
    alice, bob = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    old = MessageFactory(room=room, author=alice, body="from the dawn of the room")
    Message.objects.bulk_create(Message(room=room, author=alice, body=f"filler {n}") for n in range(560))
    reply = as_server_code(message_post, room=room, author=bob, body="remember this?", reply_to=old.pk)
    page = open_room(logged_in(new_context, asgi_server, bob), room)
    errors = watch_for_errors(page)

    quote_in(page, reply).locator("strong").click()
    # Ten pages in place, then the room around it (?around=, highlighted by the server); or,
    # when scrolling to the top let the list's own sentinel load the pages faster than the
    # jump asks for them, in place after all (flashed). Either way the original is shown.
    original = page.locator(f"#messages > #message-{old.pk}")
    expect(original).to_have_class(re.compile(r"\b(highlighted|flash)\b"), timeout=60_000)
    expect(original).to_be_in_viewport()
    around = re.compile(rf"/rooms/{room.slug}/(\?around={old.pk}#message-{old.pk})?$")
    expect(page).to_have_url(around)
    assert errors == []


def test_n_replies_opens_the_thread_whose_composer_answers_live_into_the_other_open_thread(
    asgi_server, new_context
):
    room = RoomFactory()
    alice = MembershipFactory(room=room, user=UserFactory(display_name="Alice")).user
    bob = MembershipFactory(room=room, user=UserFactory(display_name="Bob")).user
    original = as_server_code(message_post, room=room, author=alice, body="the plan")
    as_server_code(message_post, room=room, author=alice, body="first thought", reply_to=original.pk)
    alice_context = logged_in(new_context, asgi_server, alice)
    alice_context.add_init_script(path=AXE)
    alice_page = open_room(alice_context, room)
    alice_errors = watch_for_errors(alice_page)
    bob_context = logged_in(new_context, asgi_server, bob, viewport=PHONE)
    bob_context.add_init_script(path=AXE)
    bob_page = open_room(bob_context, room)
    bob_errors = watch_for_errors(bob_page)
    thread_url = f"/rooms/{room.slug}/messages/{original.pk}/thread/"

    # By keyboard, in both pages: "1 reply", Enter; the focus goes to the thread's composer.
    for page in (alice_page, bob_page):
        link = page.locator(f"#messages > #message-{original.pk} .thread-link")
        expect(link).to_have_attribute("href", thread_url)
        link.focus()
        link.press("Enter")
        panel = page.locator(f"#thread[data-thread='{original.pk}']")
        expect(panel).to_be_visible()
        expect(panel.locator(".thread-messages > .message")).to_have_count(2)
        expect(panel.locator("#thread-body")).to_be_focused()
    assert page_width(bob_page) <= PHONE["width"]
    for page in (alice_page, bob_page):
        settled(page)
        assert page.evaluate(AXE_PROBLEMS) == []

    # Bob answers from the thread (Tab to its Reply button, Enter): live in Alice's thread.
    bob_page.keyboard.type("second thought")
    bob_page.keyboard.press("Tab")
    expect(bob_page.locator(".thread-composer button[type=submit]")).to_be_focused()
    bob_page.keyboard.press("Enter")
    for page in (bob_page, alice_page):
        panel = page.locator("#thread")
        expect(panel.locator(".thread-messages > .message", has_text="second thought")).to_have_count(1)
        expect(panel.locator(".thread-messages > .message")).to_have_count(3)
        expect(page.locator(f"#messages > #message-{original.pk} .thread-link")).to_have_text("2 replies")
        expect(panel.locator(f"#thread-message-{original.pk} .thread-link")).to_have_text("2 replies")
    expect(bob_page.locator("#thread-body")).to_have_value("")
    answer = Message.objects.get(body="second thought")
    assert answer.reply_to_id == original.pk and answer.author_id == bob.pk

    # Esc closes it, and the focus is back on "2 replies" (a live update replaced the link).
    bob_page.locator("#thread-body").press("Escape")
    expect(bob_page.locator("#thread")).to_be_hidden()
    expect(bob_page.locator(f"#messages > #message-{original.pk} .thread-link")).to_be_focused()
    # So does the close button, by keyboard.
    alice_page.locator(".thread-close").focus()
    alice_page.keyboard.press("Enter")
    expect(alice_page.locator("#thread")).to_be_hidden()
    expect(alice_page.locator(f"#messages > #message-{original.pk} .thread-link")).to_be_focused()
    assert alice_page.url.endswith(f"/rooms/{room.slug}/")
    assert alice_errors == [] and bob_errors == []


def test_the_pins_panel_lists_a_pinned_message_and_follows_the_owners_pins_live(asgi_server, new_context):
    room = RoomFactory()
    owner = MembershipFactory(room=room, role="owner", user=UserFactory(display_name="Olga")).user
    member = MembershipFactory(room=room).user
    message = MessageFactory(room=room, author=member, body="the deploy checklist is here")
    MessageFactory.create_batch(3, room=room, author=member)
    owner_page = open_room(logged_in(new_context, asgi_server, owner), room)
    owner_errors = watch_for_errors(owner_page)
    member_context = logged_in(new_context, asgi_server, member)
    member_context.add_init_script(path=AXE)
    member_page = open_room(member_context, room)
    member_errors = watch_for_errors(member_page)
    pins = member_page.locator("#room-pins")
    pins.locator("summary").focus()
    pins.locator("summary").press("Enter")
    expect(pins.locator("#pins-list")).to_contain_text("Nothing is pinned yet")

    # The owner pins by keyboard; the member's open panel lists it live.
    article = owner_page.locator(f"#message-{message.pk}")
    article.hover()
    article.locator(".pin-button").focus()
    owner_page.keyboard.press("Enter")
    listed = pins.locator("#pins-list li", has_text="the deploy checklist is here")
    expect(listed).to_have_count(1)
    expect(member_page.locator(f"#message-{message.pk} .pinned-mark")).to_have_text("Pinned")
    expect(owner_page.locator(f"#message-{message.pk} .pin-button")).to_have_text("Unpin")
    assert Message.objects.get(pk=message.pk).pinned_by_id == owner.pk
    settled(member_page)
    assert member_page.evaluate(AXE_PROBLEMS) == []

    # The pin jumps to the message.
    listed.locator("a").focus()
    member_page.keyboard.press("Enter")
    expect(member_page.locator(f"#message-{message.pk}")).to_have_class(re.compile(r"\bflash\b"))

    # Unpinned: gone from the member's panel, live.
    owner_page.locator(f"#message-{message.pk}").hover()
    owner_page.locator(f"#message-{message.pk} .pin-button").click()
    expect(pins.locator("#pins-list")).to_contain_text("Nothing is pinned yet")
    expect(member_page.locator(f"#message-{message.pk} .pinned-mark")).to_have_count(0)
    assert Message.objects.get(pk=message.pk).pinned_at is None
    assert owner_errors == [] and member_errors == []


def test_the_quotes_of_a_deleted_original_say_original_deleted_live(asgi_server, new_context):
    room = RoomFactory()
    alice = MembershipFactory(room=room, role="owner", user=UserFactory(display_name="Alice")).user
    bob = MembershipFactory(room=room).user
    far = as_server_code(message_post, room=room, author=alice, body="far back")
    far_reply = as_server_code(message_post, room=room, author=bob, body="far answer", reply_to=far.pk)
    MessageFactory.create_batch(60, room=room, author=alice)  # far and its reply are not on the page
    original = as_server_code(message_post, room=room, author=alice, body="Shall we ship?")
    first = as_server_code(message_post, room=room, author=bob, body="yes", reply_to=original.pk)
    second = as_server_code(message_post, room=room, author=bob, body="on Friday", reply_to=original.pk)
    alice_page = open_room(logged_in(new_context, asgi_server, alice), room)
    alice_errors = watch_for_errors(alice_page)
    bob_page = open_room(logged_in(new_context, asgi_server, bob, viewport=PHONE), room)
    bob_errors = watch_for_errors(bob_page)
    bob_page.locator(f"#messages > #message-{original.pk} .thread-link").press("Enter")
    in_thread = bob_page.locator(f"#thread-message-{first.pk} > .reply-quote")
    expect(in_thread).to_contain_text("Alice Shall we ship?")

    # Alice deletes the original from its actions: every quote of it on Bob's page changes.
    alice_page.once("dialog", lambda dialog: dialog.accept())
    alice_page.locator(f"#message-{original.pk}").hover()
    alice_page.locator(f"#message-{original.pk} .delete-button").click()
    quotes = (quote_in(bob_page, first), quote_in(bob_page, second), in_thread, quote_in(alice_page, first))
    for quote in quotes:
        expect(quote).to_have_text("original deleted")
    expect(bob_page.locator(f"#messages > #message-{original.pk} .body")).to_have_text("message deleted")
    for page in (alice_page, bob_page):
        expect(page.locator(f"#messages > #message-{first.pk} > .body")).to_have_text("yes")
    # The same fresh from the server (a page loaded now).
    fresh = open_room(logged_in(new_context, asgi_server, bob), room)
    expect(quote_in(fresh, second)).to_have_text("original deleted")

    # Restored: the quotes show the original again, live.
    as_server_code(message_restore, message=Message.objects.get(pk=original.pk), actor=alice, source="page")
    for quote in (quote_in(bob_page, first), quote_in(bob_page, second), in_thread):
        expect(quote).to_contain_text("Alice Shall we ship?")

    # Deleted while the frame was lost (saved without a broadcast): the catch-up that the
    # next frame sets off (sync.js) brings the quotes too.
    now = timezone.now()
    Message.objects.filter(pk=original.pk).update(deleted_at=now, deleted_by=alice, changed_at=now)
    missed = Message.objects.create(room=room, author=alice, body="a missed frame")
    as_server_code(message_post, room=room, author=alice, body="the next frame")
    expect(bob_page.locator(f"#messages > #message-{missed.pk}")).to_have_count(1)
    for quote in (quote_in(bob_page, first), quote_in(bob_page, second), in_thread):
        expect(quote).to_have_text("original deleted")

    # A message none of whose replies the pages show: nothing to replace, and no error.
    said_deleted = bob_page.locator(".reply-quote", has_text="original deleted")
    expect(said_deleted).to_have_count(4)  # two replies, in the list and in the thread
    as_server_code(message_delete, room=room, user=alice, message_id=far.pk)
    marker = as_server_code(message_post, room=room, author=alice, body="after the far deletion")
    for page in (alice_page, bob_page):
        expect(page.locator(f"#message-{marker.pk}")).to_have_count(1)
        expect(page.locator(f"#message-{far_reply.pk}")).to_have_count(0)
        expect(page.locator("#oob-landing > *")).to_have_count(0)
    expect(said_deleted).to_have_count(4)
    assert alice_errors == [] and bob_errors == []
