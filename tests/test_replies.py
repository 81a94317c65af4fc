"""Replies and threads (issue 16, point 1): a reply quotes its original, the original
counts its replies, a thread lists them, all through the same services from the
socket and the form, live for every open page."""

import json
import re

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient, Client
from django.urls import reverse
from django.utils import timezone

from messages_app.models import Message
from messages_app.selectors import membership_list_for_user
from messages_app.services import (
    MessageRejected,
    message_delete,
    message_edit,
    message_pin_toggle,
    message_post,
    message_restore,
)
from rooms.models import Membership
from tests.clients import logged_in
from tests.factories import MembershipFactory, RoomFactory, UserFactory
from tests.sockets import joined_socket, live, make_member, open_socket, receive_all, receive_until

HISTORY_PAGE_MAX_QUERIES = 7  # as tests/test_history.py (its 7th: reactions): replies add none


@pytest.fixture
def original(room, member):
    return message_post(room=room, author=member, body="Shall we ship on Friday?")


def replies_link(html, original):
    return re.search(rf'href="/rooms/[^"]+/messages/{original.pk}/thread/"[^>]*>(\d+) repl', html)


# --- the rules ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_reply_keeps_its_original_and_the_original_counts_it(room, member, original):
    friend = MembershipFactory(room=room).user
    reply = message_post(room=room, author=friend, body="Yes, Friday", reply_to=original.pk)
    message_post(room=room, author=member, body="Great", reply_to=original.pk)
    assert Message.objects.get(pk=reply.pk).reply_to_id == original.pk
    saved = Message.objects.get(pk=original.pk)
    assert saved.reply_count == 2 and saved.changed_at is not None  # the catch-up sees the new count


@pytest.mark.django_db
def test_a_reply_to_a_message_of_another_room_or_none_is_refused_and_saves_nothing(room, member):
    elsewhere = MembershipFactory(user=member).room
    foreign = message_post(room=elsewhere, author=member, body="elsewhere")
    for forged in (foreign.pk, 10**12, 0):
        with pytest.raises(MessageRejected, match="does not exist in this room"):
            message_post(room=room, author=member, body="answer", reply_to=forged)
    assert not Message.objects.filter(room=room).exists()
    assert Message.objects.get(pk=foreign.pk).reply_count == 0


@pytest.mark.django_db
def test_a_deleted_message_takes_no_new_reply(room, member, original):
    message_delete(room=room, user=member, message_id=original.pk)
    with pytest.raises(MessageRejected, match="was deleted"):
        message_post(room=room, author=member, body="too late", reply_to=original.pk)


@pytest.mark.django_db
def test_deleting_a_reply_uncounts_it_and_restoring_counts_it_again(room, member, original):
    reply = message_post(room=room, author=member, body="oops", reply_to=original.pk)
    message_delete(room=room, user=member, message_id=reply.pk)
    assert Message.objects.get(pk=original.pk).reply_count == 0
    staff = UserFactory(is_staff=True)
    message_restore(message=Message.objects.get(pk=reply.pk), actor=staff)
    assert Message.objects.get(pk=original.pk).reply_count == 1


@pytest.mark.django_db
def test_a_reply_mentions_and_counts_as_unread_like_any_message(room, member, original):
    friend = MembershipFactory(room=room).user
    body = f"@{friend.username} what do you think?"
    reply = message_post(room=room, author=member, body=body, reply_to=original.pk)
    assert list(reply.mentions.all()) == [friend]
    (membership,) = membership_list_for_user(user=friend)
    assert (membership.unread_count, membership.unread_mentions) == (2, 1)


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_reply_shows_a_quote_that_opens_the_original_in_history(room, member, original):
    friend = MembershipFactory(room=room).user
    message_post(room=room, author=friend, body="Friday <b>works</b>", reply_to=original.pk)
    html = logged_in(member).get(room.get_absolute_url()).content.decode()
    quote = re.search(r'<a class="reply-quote" href="([^"]+)" data-quote-of="(\d+)">(.*?)</a>', html, re.S)
    assert quote.group(1) == f"{room.get_absolute_url()}?around={original.pk}#message-{original.pk}"
    assert quote.group(2) == str(original.pk) and "Shall we ship on Friday?" in quote.group(3)
    assert replies_link(html, original).group(1) == "1"
    assert "&lt;b&gt;works&lt;/b&gt;" in html  # the reply's own text is escaped as any


@pytest.mark.django_db
def test_a_reply_to_a_deleted_original_says_so_and_keeps_its_place(room, member, original):
    reply = message_post(room=room, author=member, body="my answer", reply_to=original.pk)
    client = logged_in(member)
    client.get(room.get_absolute_url())  # its fragment is cached now
    message_delete(room=room, user=member, message_id=original.pk)
    html = client.get(room.get_absolute_url()).content.decode()
    article = re.search(rf'<article id="message-{reply.pk}".*?</article>', html, re.S).group(0)
    assert "original deleted" in article and "Shall we ship" not in article and "my answer" in article


@pytest.mark.django_db
def test_an_edited_original_shows_in_the_quote_of_an_already_seen_reply(room, member, original):
    reply = message_post(room=room, author=member, body="my answer", reply_to=original.pk)
    client = logged_in(member)
    client.get(room.get_absolute_url())
    message_edit(room=room, user=member, message_id=original.pk, body="Shall we ship on Monday?")
    html = client.get(room.get_absolute_url()).content.decode()
    article = re.search(rf'<article id="message-{reply.pk}".*?</article>', html, re.S).group(0)
    assert "Monday" in article


@pytest.mark.django_db
def test_the_composer_carries_a_reply_field_and_the_plain_form_posts_a_reply(room, member, original):
    client = logged_in(member)
    page = client.get(room.get_absolute_url()).content.decode()
    assert '<input type="hidden" name="reply_to" value="">' in page
    url = reverse("room_messages", args=[room.slug])
    response = client.post(url, {"body": "by form", "reply_to": original.pk})
    assert response.status_code == 303
    assert Message.objects.get(body="by form").reply_to_id == original.pk
    client.post(url, {"body": "no reply", "reply_to": ""})
    assert Message.objects.get(body="no reply").reply_to_id is None


@pytest.mark.django_db
def test_the_form_refuses_a_forged_reply_with_the_composers_error(room, member):
    elsewhere = MembershipFactory(user=member).room
    foreign = message_post(room=elsewhere, author=member, body="elsewhere")
    client = logged_in(member)
    url = reverse("room_messages", args=[room.slug])
    response = client.post(url, {"body": "mine", "reply_to": foreign.pk}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and "does not exist in this room" in response.content.decode()
    assert client.post(url, {"body": "mine", "reply_to": "abc"}).status_code == 400
    assert not Message.objects.filter(room=room).exists()


# --- the thread ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_thread_lists_the_message_and_its_replies_oldest_first(room, member, original):
    friend = MembershipFactory(room=room).user
    first = message_post(room=room, author=friend, body="first answer", reply_to=original.pk)
    message_post(room=room, author=member, body="not in the thread")
    second = message_post(room=room, author=member, body="second answer", reply_to=original.pk)
    url = reverse("message_thread", args=[room.slug, original.pk])
    panel = logged_in(member).get(url, headers={"HX-Request": "true"}).content.decode()
    ids = [int(found) for found in re.findall(r'<article id="thread-message-(\d+)"', panel)]
    assert ids == [original.pk, first.pk, second.pk]
    assert "not in the thread" not in panel and f'id="message-{original.pk}"' not in panel
    assert f'name="reply_to" value="{original.pk}"' in panel and 'class="thread-composer"' in panel
    page = logged_in(member).get(url).content.decode()  # without htmx: a page of its own
    assert "<!doctype html>" in page.lower() and "first answer" in page


@pytest.mark.django_db
def test_a_thread_is_for_readers_of_the_room_only(member, original, room):
    secret = RoomFactory(is_private=True)
    MembershipFactory(room=secret, user=member, role=Membership.Role.OWNER)
    hidden = message_post(room=secret, author=member, body="secret plans")
    outsider = logged_in(UserFactory())
    assert outsider.get(reverse("message_thread", args=[secret.slug, hidden.pk])).status_code == 404
    assert logged_in(member).get(reverse("message_thread", args=[room.slug, hidden.pk])).status_code == 404
    reader = outsider.get(reverse("message_thread", args=[room.slug, original.pk]))
    assert reader.status_code == 200 and 'class="thread-composer"' not in reader.content.decode()
    assert Client().get(reverse("message_thread", args=[room.slug, original.pk])).status_code == 302


@pytest.mark.django_db
def test_history_with_replies_costs_the_same_queries(client, room, member, django_assert_max_num_queries):
    originals = [message_post(room=room, author=member, body=f"topic {n}") for n in range(10)]
    for n in range(40):
        message_post(room=room, author=member, body=f"answer {n}", reply_to=originals[n % 10].pk)
    client.force_login(member)
    newest = Message.objects.filter(room=room).latest("id").pk
    with django_assert_max_num_queries(HISTORY_PAGE_MAX_QUERIES):
        html = client.get(f"/rooms/{room.slug}/messages/?before={newest}").content.decode()
    assert html.count('class="reply-quote"') >= 30


@pytest.mark.django_db
def test_a_thread_costs_the_same_queries_for_many_replies(
    client, room, member, original, django_assert_max_num_queries
):
    url = reverse("message_thread", args=[room.slug, original.pk])
    client.force_login(member)
    message_post(room=room, author=member, body="one", reply_to=original.pk)
    with django_assert_max_num_queries(9) as few:
        client.get(url, headers={"HX-Request": "true"})
    for n in range(30):
        message_post(room=room, author=member, body=f"more {n}", reply_to=original.pk)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert html.count('<article id="thread-message-') == 32


# --- live ---------------------------------------------------------------------------------------


@live
async def test_a_reply_over_the_socket_reaches_every_page_and_updates_the_count():
    room = await sync_to_async(RoomFactory)()
    author, reader = await make_member(room), await make_member(room)
    original = await sync_to_async(message_post)(room=room, author=author, body="the question")
    viewer = await open_socket(room.slug, reader)
    replier = await joined_socket(room, author)

    await replier.send_json_to({"body": "the answer", "reply_to": str(original.pk)})

    frames = await receive_all(viewer, "the answer", "1 reply")
    new = next(frame for frame in frames if "the answer" in frame)
    assert "beforeend:#messages" in new and f'data-reply-to="{original.pk}"' in new and "the question" in new
    count = next(frame for frame in frames if "1 reply" in frame)
    assert count.startswith(f'<article id="message-{original.pk}"') and 'hx-swap-oob="true"' in count
    await replier.send_json_to({"body": "forged", "reply_to": 10**12})
    await receive_until(replier, "does not exist in this room")
    await replier.send_json_to({"body": "forged", "reply_to": "abc"})
    await receive_until(replier, "names no message")
    assert not await Message.objects.filter(body="forged").aexists()
    await viewer.disconnect()
    await replier.disconnect()


@live
async def test_a_page_that_reconnects_sees_the_new_reply_count():
    room = await sync_to_async(RoomFactory)()
    author = await make_member(room)
    original = await sync_to_async(message_post)(room=room, author=author, body="the question")
    away_since = timezone.now()
    reply = await sync_to_async(message_post)(room=room, author=author, body="answered", reply_to=original.pk)
    client = AsyncClient()
    await client.aforce_login(author)
    since = away_since.isoformat()
    response = await client.get(f"/rooms/{room.slug}/messages/", {"after": reply.pk, "changed_since": since})
    html = response.content.decode()
    assert f'<article id="message-{original.pk}"' in html and "1 reply" in html


@pytest.mark.django_db
def test_a_page_that_reconnects_gets_the_quotes_of_an_original_deleted_while_away(room, member, original):
    reply = message_post(room=room, author=member, body="my answer", reply_to=original.pk)
    away_since = timezone.now()
    message_delete(room=room, user=member, message_id=original.pk)
    query = {"after": reply.pk, "changed_since": away_since.isoformat()}
    html = logged_in(member).get(f"/rooms/{room.slug}/messages/", query).content.decode()
    quotes = f"hx-swap-oob=\"outerHTML:.reply-quote[data-quote-of='{original.pk}']\""
    assert html.count(quotes) == 1
    quote = html[html.index(quotes) :]
    assert "original deleted" in quote[: quote.index("</a>")]


@pytest.mark.django_db
def test_the_export_keeps_who_answers_whom_and_the_pins(room, member, original):
    moderator = MembershipFactory(room=room, role=Membership.Role.MODERATOR).user
    reply = message_post(room=room, author=moderator, body="an answer", reply_to=original.pk)
    message_pin_toggle(room=room, user=moderator, message_id=original.pk)
    client = logged_in(member)
    document = json.loads(b"".join(client.get(reverse("room_export", args=[room.slug])).streaming_content))
    exported = {message["id"]: message for message in document["messages"]}
    assert exported[reply.pk]["reply_to"] == original.pk and exported[original.pk]["reply_to"] is None
    assert exported[original.pk]["pinned_at"].endswith("+00:00") and exported[reply.pk]["pinned_at"] is None
    url = reverse("room_export", args=[room.slug]) + "?format=html"
    html = b"".join(client.get(url).streaming_content).decode()
    assert f'<a href="#message-{original.pk}">In reply to' in html and "(pinned)" in html


@live
async def test_deleting_an_original_sends_its_quotes_as_original_deleted_in_the_same_frame():
    """One fragment for every quote of the original (rendered once, in the frame that
    replaces the original), so the pages already showing its replies say so live; a
    restore sends the quote back; a message without replies sends none."""
    room = await sync_to_async(RoomFactory)()
    author, reader = await make_member(room, role="owner"), await make_member(room)
    original = await sync_to_async(message_post)(room=room, author=author, body="the question")
    await sync_to_async(message_post)(room=room, author=reader, body="an answer", reply_to=original.pk)
    lonely = await sync_to_async(message_post)(room=room, author=author, body="nobody answered")
    viewer = await open_socket(room.slug, reader)
    quotes = f"hx-swap-oob=\"outerHTML:.reply-quote[data-quote-of='{original.pk}']\""

    await sync_to_async(message_delete)(room=room, user=author, message_id=original.pk)
    frame = (await receive_until(viewer, f'<article id="message-{original.pk}"'))[-1]
    assert frame.count(quotes) == 1 and frame.count("hx-swap-oob=") == 2
    quote = frame[frame.index('<a class="reply-quote"', frame.index("</article>")) :]
    assert "original deleted" in quote and "the question" not in quote

    restored = await Message.objects.aget(pk=original.pk)
    await sync_to_async(message_restore)(message=restored, actor=author, source="page")
    frame = (await receive_until(viewer, f'<article id="message-{original.pk}"'))[-1]
    quote = frame[frame.index(quotes) :]
    assert "the question" in quote and "original deleted" not in quote

    await sync_to_async(message_delete)(room=room, user=author, message_id=lonely.pk)
    frame = (await receive_until(viewer, f'<article id="message-{lonely.pk}"'))[-1]
    assert "reply-quote" not in frame
    await viewer.disconnect()
