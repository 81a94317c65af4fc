"""Reactions (issue 16, point 2): toggled by a member over HTTP or the socket, checked
strictly, unique per (message, person, emoji), shown as one small bar that is rendered
once and sent to every page, seen by catch-up and cached history alike."""

import json
import threading
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messages_app.models import Message, Reaction
from messages_app.reactions import emoji_clean, who_reacted
from messages_app.services import MessageRejected, message_post, reaction_toggle
from rooms.models import Membership
from tests.clients import logged_in
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory
from tests.sockets import joined_socket, make_member, receive_until

THUMBS = "👍"


def url(message):
    return reverse("message_reactions", args=[message.room.slug, message.pk])


@pytest.fixture
def message(room, member):
    return MessageFactory(room=room, author=member)


# --- the service ------------------------------------------------------------------


def test_toggle_adds_then_removes_and_bumps_changed_at(
    room, member, message, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert reaction_toggle(room=room, user=member, message_id=message.pk, emoji=THUMBS) is True
    assert len(callbacks) == 1  # one broadcast
    message.refresh_from_db()
    first_change = message.changed_at
    assert first_change is not None
    assert list(Reaction.objects.values_list("user", "emoji")) == [(member.pk, THUMBS)]

    assert reaction_toggle(room=room, user=member, message_id=message.pk, emoji=THUMBS) is False
    message.refresh_from_db()
    assert not Reaction.objects.exists() and message.changed_at > first_change


@pytest.mark.parametrize(
    "emoji",
    [
        "👍",
        "👍🏽",
        "❤️",
        "❤",
        "👩‍💻",
        "🏳️‍🌈",
        "👨‍👩‍👧‍👦",
        "1️⃣",
        "#⃣",
        "🇫🇷",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "🫶",
    ],
)
def test_single_emoji_are_accepted(emoji):
    assert emoji_clean(emoji) == emoji


@pytest.mark.parametrize(
    "emoji",
    [
        "",
        "a",
        "ok",
        "1",
        " 👍",
        "👍 ",
        "👍👍",
        "🇫",
        "\u200d",
        "👍\u200d",
        "<b>👍</b>",
        "<script>alert(1)</script>",
        "👍\x00",
        "\n",
        "🏽",
        "😀" * 40,
        None,
        7,
    ],
)
def test_anything_but_one_emoji_is_refused_and_nothing_saved(room, member, message, emoji):
    with pytest.raises(MessageRejected) as refusal:
        reaction_toggle(room=room, user=member, message_id=message.pk, emoji=emoji)
    assert "emoji" in str(refusal.value)
    message.refresh_from_db()
    assert not Reaction.objects.exists() and message.changed_at is None


def test_other_rooms_forged_and_deleted_messages_are_refused(room, member, message):
    elsewhere = MessageFactory(room=MembershipFactory(user=member).room)
    deleted = MessageFactory(room=room, deleted_at=timezone.now())
    cases = {elsewhere.pk: "does not exist in this room", 10**12: "does not exist", deleted.pk: "deleted"}
    for message_id, text in cases.items():
        with pytest.raises(MessageRejected, match=text):
            reaction_toggle(room=room, user=member, message_id=message_id, emoji=THUMBS)
    assert not Reaction.objects.exists()


def test_non_members_banned_and_archived_are_refused(room, member, message):
    with pytest.raises(MessageRejected, match="Join"):
        reaction_toggle(room=room, user=UserFactory(), message_id=message.pk, emoji=THUMBS)
    Membership.objects.filter(user=member).update(banned_at=timezone.now())
    with pytest.raises(MessageRejected, match="banned"):
        reaction_toggle(room=room, user=member, message_id=message.pk, emoji=THUMBS)
    other = MembershipFactory(room=room).user
    room.archived_at = timezone.now()
    room.save()
    with pytest.raises(MessageRejected, match="archived"):
        reaction_toggle(room=room, user=other, message_id=message.pk, emoji=THUMBS)
    assert not Reaction.objects.exists()


def test_a_muted_member_may_take_a_reaction_away_but_not_add_one(room, member, message):
    reaction_toggle(room=room, user=member, message_id=message.pk, emoji=THUMBS)
    Membership.objects.filter(user=member).update(muted_until=timezone.now() + timedelta(hours=1))
    with pytest.raises(MessageRejected, match="muted"):
        reaction_toggle(room=room, user=member, message_id=message.pk, emoji="🎉")
    assert reaction_toggle(room=room, user=member, message_id=message.pk, emoji=THUMBS) is False
    assert not Reaction.objects.exists()


def test_at_most_20_different_emoji_per_message(room, member, message):
    emojis = [chr(0x1F600 + n) for n in range(21)]
    for emoji in emojis[:20]:
        reaction_toggle(room=room, user=member, message_id=message.pk, emoji=emoji)
    with pytest.raises(MessageRejected, match="at most 20"):
        reaction_toggle(
            room=room, user=MembershipFactory(room=room).user, message_id=message.pk, emoji=emojis[20]
        )
    # One already there may still be added by someone else.
    reaction_toggle(room=room, user=MembershipFactory(room=room).user, message_id=message.pk, emoji=emojis[0])
    assert Reaction.objects.count() == 21


def test_toggling_is_rate_limited_apart_from_messages(room, member, message, settings):
    settings.CHAT_RATE_LIMIT = "2/60"
    reaction_toggle(room=room, user=member, message_id=message.pk, emoji=THUMBS)
    reaction_toggle(room=room, user=member, message_id=message.pk, emoji=THUMBS)
    with pytest.raises(MessageRejected, match="reacting too fast"):
        reaction_toggle(room=room, user=member, message_id=message.pk, emoji="🎉")
    assert not Reaction.objects.exists()
    message_post(room=room, author=member, body="messages have their own count")


@pytest.mark.django_db(transaction=True)
def test_a_concurrent_double_toggle_leaves_no_duplicate():
    room = RoomFactory()
    member = MembershipFactory(room=room).user
    message = MessageFactory(room=room, author=member)
    start, errors = threading.Barrier(2), []

    def toggle():
        try:
            start.wait()
            reaction_toggle(room=room, user=member, message_id=message.pk, emoji=THUMBS)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=toggle) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    # The toggles took turns on the message's row: on, then off.
    assert Reaction.objects.filter(message=message).count() == 0
    reaction_toggle(room=room, user=member, message_id=message.pk, emoji=THUMBS)
    assert Reaction.objects.filter(message=message).count() == 1


def test_who_reacted_names_a_few_then_counts_the_others():
    assert who_reacted(["alice"]) == "alice"
    assert who_reacted(["alice", "bob"]) == "alice and bob"
    assert who_reacted(["alice", "bob", "carol", "dan"]) == "alice, bob, carol and dan"
    assert who_reacted(["a", "b", "c", "d", "e"]) == "a, b, c and 2 others"


# --- over HTTP ----------------------------------------------------------------------


def test_post_without_javascript_toggles_and_redirects_back_to_the_room(room, member, message):
    response = logged_in(member).post(url(message), {"emoji": THUMBS})
    assert response.status_code == 303
    assert response["Location"] == f"{room.get_absolute_url()}#message-{message.pk}"
    assert Reaction.objects.filter(message=message, user=member, emoji=THUMBS).exists()


def test_htmx_post_answers_with_the_bar_and_a_refusal_out_of_band(room, member, message):
    client = logged_in(member)
    bar = client.post(url(message), {"emoji": THUMBS}, headers={"HX-Request": "true"}).content.decode()
    assert f'id="reactions-{message.pk}"' in bar and f'data-users="{member.pk}"' in bar
    refused = client.post(url(message), {"emoji": "nope"}, headers={"HX-Request": "true"})
    assert refused.status_code == 200 and refused["HX-Reswap"] == "none"
    assert 'id="composer-errors"' in refused.content.decode() and "one emoji" in refused.content.decode()


def test_the_reaction_page_offers_quick_reactions_and_shows_a_refusal(room, member, message):
    client = logged_in(member)
    page = client.get(url(message)).content.decode()
    assert 'value="👍"' in page and 'name="csrfmiddlewaretoken"' in page
    refused = client.post(url(message), {"emoji": "<script>alert(1)</script>"})
    assert refused.status_code == 400 and "one emoji" in refused.content.decode()
    assert "<script>alert(1)" not in refused.content.decode()
    assert not Reaction.objects.exists()


def test_a_private_room_is_invisible_and_a_public_reader_is_refused(room, member, message):
    secret = RoomFactory(is_private=True)
    hidden = MessageFactory(room=secret)
    outsider = logged_in(UserFactory())
    assert outsider.get(url(hidden)).status_code == 404
    assert outsider.post(url(hidden), {"emoji": THUMBS}).status_code == 404
    reader = outsider.post(url(message), {"emoji": THUMBS})
    assert reader.status_code == 400 and "Join the room" in reader.content.decode()
    assert not Reaction.objects.exists()


def test_a_reader_clicking_a_chip_gets_the_bar_back_unchanged(room, member, message):
    reaction_toggle(room=room, user=member, message_id=message.pk, emoji=THUMBS)
    reader = logged_in(UserFactory())
    response = reader.post(url(message), {"emoji": THUMBS}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and f'id="reactions-{message.pk}"' in html
    assert "composer-errors" not in html and Reaction.objects.count() == 1


def test_posting_needs_the_csrf_token(room, member, message):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.post(url(message), {"emoji": THUMBS}).status_code == 403
    assert not Reaction.objects.exists()


# --- how it shows ---------------------------------------------------------------------


def test_the_bar_names_who_reacted_and_marks_mine_through_css(room, member, message):
    names = ["Alice", "Bob", "Carol", "Dan", "Eve"]
    for name in names:
        user = MembershipFactory(room=room, user=UserFactory(display_name=name)).user
        reaction_toggle(room=room, user=user, message_id=message.pk, emoji=THUMBS)
    client = logged_in(member)
    page = client.get(room.get_absolute_url()).content.decode()
    assert 'title="Alice, Bob, Carol and 2 others"' in page
    assert 'aria-label="👍 5: Alice, Bob, Carol and 2 others"' in page
    css = client.get(reverse("viewer_css") + f"?user={member.pk}").content.decode()
    assert f'.reaction[data-users~="{member.pk}"]' in css


def test_a_new_display_name_shows_in_the_cached_history(room, member, message):
    reactor = MembershipFactory(room=room, user=UserFactory(display_name="Before")).user
    reaction_toggle(room=room, user=reactor, message_id=message.pk, emoji=THUMBS)
    client = logged_in(member)
    assert 'title="Before"' in client.get(room.get_absolute_url()).content.decode()
    reactor.display_name = "After"
    reactor.save()
    page = client.get(room.get_absolute_url()).content.decode()
    assert 'title="After"' in page and 'title="Before"' not in page


def test_a_deleted_message_shows_no_reactions(room, member, message, django_capture_on_commit_callbacks):
    reaction_toggle(room=room, user=member, message_id=message.pk, emoji=THUMBS)
    client = logged_in(member)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("message_delete", args=[room.slug, message.pk]))
    page = client.get(room.get_absolute_url()).content.decode()
    assert f'id="reactions-{message.pk}"' not in page and "message deleted" in page


def test_catch_up_sees_a_reaction_made_while_away(room, member, message):
    client = logged_in(member)
    since = timezone.now().isoformat()
    reaction_toggle(room=room, user=MembershipFactory(room=room).user, message_id=message.pk, emoji="🎉")
    html = client.get(
        reverse("room_messages", args=[room.slug]), {"after": message.pk, "changed_since": since}
    ).content.decode()
    assert f'id="reactions-{message.pk}"' in html and "🎉" in html


def test_history_with_reactions_on_every_message_costs_the_same_queries(
    room, member, django_assert_max_num_queries
):
    """One query for the reactions of a whole page, whoever reacted and however many."""
    people = [MembershipFactory(room=room).user for _ in range(5)]
    messages = Message.objects.bulk_create(
        [Message(room=room, author=member, body=f"m{n}", body_html=f"<p>m{n}</p>") for n in range(60)]
    )
    Reaction.objects.bulk_create(
        Reaction(message=m, user=p, emoji=e) for m in messages for p in people for e in ("👍", "🎉")
    )
    client = logged_in(member)
    before = reverse("room_messages", args=[room.slug]) + f"?before={messages[-1].pk + 1}"
    for _ in range(2):  # cold and warm fragment cache
        with django_assert_max_num_queries(7):
            html = client.get(before).content.decode()
        assert html.count('class="reaction"') == 100
        with django_assert_max_num_queries(13):
            page = client.get(room.get_absolute_url()).content.decode()
        assert page.count('class="reaction"') == 100


# --- live, over real WebSockets ----------------------------------------------------------


@pytest.mark.usefixtures("channel_layer", "close_worker_thread_connections")
@pytest.mark.django_db(transaction=True)
async def test_a_reaction_frame_reaches_every_page_once_as_the_bar_alone():
    room = await sync_to_async(RoomFactory)()
    alice, bob = await make_member(room), await make_member(room)
    message = await sync_to_async(MessageFactory)(room=room, author=alice)
    alice_socket, bob_socket = await joined_socket(room, alice), await joined_socket(room, bob)
    await receive_until(alice_socket, f"hello from {bob.username}")

    await alice_socket.send_json_to({"react": message.pk, "emoji": THUMBS, "HEADERS": {"HX-Request": "true"}})

    for socket in (alice_socket, bob_socket):
        frame = (await receive_until(socket, f'id="reactions-{message.pk}"'))[-1]
        assert frame.startswith(f'<div id="reactions-{message.pk}"') and 'hx-swap-oob="true"' in frame
        assert f'data-users="{alice.pk}"' in frame and "<article" not in frame
        assert await socket.receive_nothing(timeout=0.3)  # once
    assert await Reaction.objects.filter(message=message, user=alice, emoji=THUMBS).aexists()
    await alice_socket.disconnect()
    await bob_socket.disconnect()


@pytest.mark.usefixtures("channel_layer", "close_worker_thread_connections")
@pytest.mark.django_db(transaction=True)
async def test_a_bad_reaction_frame_is_refused_in_the_composer_errors_and_the_socket_stays():
    room = await sync_to_async(RoomFactory)()
    alice = await make_member(room)
    message = await sync_to_async(MessageFactory)(room=room, author=alice)
    socket = await joined_socket(room, alice)
    for frame, error in [
        ({"react": message.pk, "emoji": "<img src=x onerror=alert(1)>"}, "one emoji"),
        ({"react": "x", "emoji": THUMBS}, "message id"),
        ({"react": message.pk}, "Choose an emoji"),
        ({"react": message.pk + 1000, "emoji": THUMBS}, "does not exist"),
    ]:
        await socket.send_json_to(frame)
        reply = (await receive_until(socket, 'id="composer-errors"'))[-1]
        assert error in reply and "<img" not in reply
    assert not await Reaction.objects.aexists()
    await socket.send_json_to({"body": "still here"})
    await receive_until(socket, "still here")
    await socket.disconnect()


@pytest.mark.usefixtures("channel_layer", "close_worker_thread_connections")
@pytest.mark.django_db(transaction=True)
async def test_deleting_a_message_takes_its_reactions_away_live():
    room = await sync_to_async(RoomFactory)()
    alice = await make_member(room)
    message = await sync_to_async(MessageFactory)(room=room, author=alice)
    socket = await joined_socket(room, alice)
    await socket.send_json_to({"react": message.pk, "emoji": THUMBS})
    await receive_until(socket, f'id="reactions-{message.pk}"')

    await socket.send_json_to({"action": "delete", "message_id": message.pk})

    frame = (await receive_until(socket, f'id="message-{message.pk}"'))[-1]
    assert "message deleted" in frame and "reactions-" not in frame and THUMBS not in frame
    await socket.disconnect()


def test_the_export_carries_each_messages_reactions(room, member, message):
    friend = MembershipFactory(room=room, user=UserFactory(display_name="Friend")).user
    reaction_toggle(room=room, user=member, message_id=message.pk, emoji=THUMBS)
    reaction_toggle(room=room, user=friend, message_id=message.pk, emoji=THUMBS)
    reaction_toggle(room=room, user=friend, message_id=message.pk, emoji="🎉")
    export = reverse("room_export", args=[room.slug])
    document = json.loads(b"".join(logged_in(member).get(export).streaming_content))
    (exported,) = document["messages"]
    assert exported["reactions"] == [
        {"emoji": THUMBS, "count": 2, "people": [member.username, "Friend"]},
        {"emoji": "🎉", "count": 1, "people": ["Friend"]},
    ]
    html = b"".join(logged_in(member).get(export + "?format=html").streaming_content).decode()
    assert f'<span title="{member.username}, Friend">{THUMBS} 2</span>' in html
