"""Messages: the posting rules, history selectors and the HTTP endpoints."""

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from accounts.models import Block
from messages_app.models import Message
from messages_app.selectors import message_list_after, message_list_before, message_list_latest
from messages_app.services import (
    MessageRejected,
    message_edit,
    message_import,
    message_post,
    parse_rate_limit,
)
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db


# --- message_post -------------------------------------------------------------


def test_message_post_saves_a_stripped_body(room, member):
    message = message_post(room=room, author=member, body="  hello there \n")
    assert Message.objects.get(pk=message.pk).body == "hello there"


@pytest.mark.parametrize("body", ["", "   ", "\n\t"])
def test_message_post_refuses_empty_bodies(room, member, body):
    with pytest.raises(MessageRejected, match="Write something"):
        message_post(room=room, author=member, body=body)
    assert not Message.objects.exists()


def test_message_post_accepts_4000_characters_and_refuses_4001(room, member):
    message_post(room=room, author=member, body="a" * 4000)
    with pytest.raises(MessageRejected, match="at most 4,000"):
        message_post(room=room, author=member, body="b" * 4001)
    assert Message.objects.count() == 1


def test_message_post_refuses_non_members_banned_and_muted(room):
    with pytest.raises(MessageRejected, match="Join the room"):
        message_post(room=room, author=UserFactory(), body="hi")
    banned = MembershipFactory(room=room, banned_at=timezone.now()).user
    with pytest.raises(MessageRejected, match="banned"):
        message_post(room=room, author=banned, body="hi")
    muted = MembershipFactory(room=room, muted_until=timezone.now() + timezone.timedelta(hours=1)).user
    with pytest.raises(MessageRejected, match="muted until"):
        message_post(room=room, author=muted, body="hi")
    assert not Message.objects.exists()


def test_message_post_refuses_non_text(room, member):
    with pytest.raises(MessageRejected):
        message_post(room=room, author=member, body=["not", "text"])


@override_settings(CHAT_RATE_LIMIT="3/60")
def test_message_post_rate_limit_per_user_per_room(room, member):
    for n in range(3):
        message_post(room=room, author=member, body=f"m{n}")
    with pytest.raises(MessageRejected, match="too fast"):
        message_post(room=room, author=member, body="one too many")
    other_room = MembershipFactory(user=member).room
    message_post(room=other_room, author=member, body="another room is fine")
    assert Message.objects.count() == 4


@pytest.mark.parametrize("value, parsed", [("30/10", (30, 10)), ("0", None), ("", None), ("5/1", (5, 1))])
def test_parse_rate_limit(value, parsed):
    assert parse_rate_limit(value) == parsed


def test_message_post_broadcasts_only_after_commit(room, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        message_post(room=room, author=member, body="later")
    assert len(callbacks) == 1


def test_message_import_renders_and_records_mentions_of_members_only(
    room, member, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    banned = MembershipFactory(room=room, banned_at=timezone.now()).user
    outsider = UserFactory()
    bodies = [
        f"@{member.username} hi, and @{outsider.username}",
        f"@{banned.username} is banned, @{member.username} wrote this",
        "  **bold**\x00  ",
    ]
    authors = [banned, member, member]
    with django_capture_on_commit_callbacks() as callbacks, django_assert_max_num_queries(5):
        created = message_import(
            room=room, messages=[Message(author=a, body=b) for a, b in zip(authors, bodies, strict=True)]
        )
    # Members, messages, mentions and a savepoint's two: as few for any number of messages.
    assert not callbacks  # history, not live traffic: nothing is announced
    saved = list(Message.objects.filter(room=room).prefetch_related("mentions"))
    assert [m.pk for m in saved] == [m.pk for m in created]
    assert [list(m.mentions.all()) for m in saved] == [[member], [], []]
    mention = f'<span class="mention" data-user="{member.pk}">@{member.username}</span>'
    assert saved[0].body_html == f"<p>{mention} hi, and @{outsider.username}</p>"
    assert saved[1].body_html == f"<p>@{banned.username} is banned, {mention} wrote this</p>"
    assert (saved[2].body, saved[2].body_html) == ("**bold**", "<p><strong>bold</strong></p>")


def test_message_import_saves_replies_and_counts_them_on_their_originals(room, member):
    earlier = MessageFactory(room=room, author=member)
    start = Message(author=member, body="start")
    replies = [
        Message(author=member, body="to start", reply_to=start),
        Message(author=member, body="to earlier", reply_to=earlier),
    ]
    created = message_import(room=room, messages=[start, *replies])
    saved = {m.body: m for m in Message.objects.filter(pk__in=[m.pk for m in created])}
    assert saved["to start"].reply_to_id == saved["start"].pk and saved["start"].reply_count == 1
    earlier.refresh_from_db()
    assert saved["to earlier"].reply_to_id == earlier.pk and earlier.reply_count == 1


def test_message_import_refuses_a_reply_to_another_rooms_message(room, member):
    elsewhere = MessageFactory(author=member)
    with pytest.raises(MessageRejected, match="in the room of the message"):
        message_import(room=room, messages=[Message(author=member, body="hi", reply_to=elsewhere)])
    assert not Message.objects.filter(room=room).exists()


# --- selectors -------------------------------------------------------------------


@pytest.fixture
def history(room, member):
    MessageFactory(room=RoomFactory(), author=member)  # another room's message never shows
    return MessageFactory.create_batch(120, room=room, author=member)


def test_message_list_latest_is_the_newest_oldest_first(room, history):
    assert message_list_latest(room=room) == history[-50:]


def test_message_list_before_pages_back_without_gaps(room, history):
    page_one = message_list_latest(room=room)
    page_two = message_list_before(room=room, before_id=page_one[0].pk)
    page_three = message_list_before(room=room, before_id=page_two[0].pk)
    assert page_three + page_two + page_one == history


def test_message_list_after_limits_and_says_more_follow(room, history):
    messages, more = message_list_after(room=room, after_id=history[9].pk, limit=100)
    assert messages == history[10:110] and more
    messages, more = message_list_after(room=room, after_id=history[109].pk, limit=100)
    assert messages == history[110:] and not more


# --- HTTP endpoints --------------------------------------------------------------------


def test_history_before_fragment(client, room, member, history):
    client.force_login(member)
    response = client.get(f"/rooms/{room.slug}/messages/?before={history[50].pk}")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.count('<article id="message-') == 50
    assert f'id="message-{history[0].pk}"' in html and f'id="message-{history[50].pk}"' not in html


def test_history_after_fragment_lists_everything_after(client, room, member, history):
    client.force_login(member)
    html = client.get(f"/rooms/{room.slug}/messages/?after={history[0].pk}").content.decode()
    assert html.count('<article id="message-') == 119 and "data-more-after" not in html


def test_history_query_count_is_constant(client, room, member, history, django_assert_max_num_queries):
    client.force_login(member)
    with django_assert_max_num_queries(7):  # session, user, room, membership, messages, reactions, files
        client.get(f"/rooms/{room.slug}/messages/?before={history[-1].pk}")


def test_history_without_cursor_is_a_bad_request(client, room, member):
    client.force_login(member)
    assert client.get(f"/rooms/{room.slug}/messages/").status_code == 400
    assert client.get(f"/rooms/{room.slug}/messages/?before=abc").status_code == 400


def test_history_of_private_room_is_404_for_non_members(client, user):
    private = RoomFactory(is_private=True)
    MessageFactory(room=private, body="secret")
    client.force_login(user)
    response = client.get(f"/rooms/{private.slug}/messages/?after=0")
    assert response.status_code == 404 and b"secret" not in response.content


def test_post_fallback_saves_through_the_service_and_redirects(client, room, member):
    client.force_login(member)
    response = client.post(f"/rooms/{room.slug}/messages/", {"body": "no socket needed"})
    assert response.status_code == 303 and response["Location"] == f"/rooms/{room.slug}/"
    assert Message.objects.get().body == "no socket needed"


def test_post_fallback_refusal_keeps_the_draft_and_says_why(client, room, member):
    client.force_login(member)
    response = client.post(f"/rooms/{room.slug}/messages/", {"body": "z" * 4001})
    assert response.status_code == 400
    assert "at most 4,000 characters" in response.content.decode()
    assert "z" * 4001 in response.content.decode()
    assert not Message.objects.exists()


def test_post_fallback_by_a_reader_who_has_not_joined_is_refused(client, room, user):
    client.force_login(user)
    response = client.post(f"/rooms/{room.slug}/messages/", {"body": "let me in"})
    assert response.status_code == 400 and not Message.objects.exists()


def test_message_html_is_escaped_on_the_page(client, room, member):
    MessageFactory(room=room, author=member, body='<img src=x onerror="alert(1)">')
    client.force_login(member)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=" in page


# --- room mentions: @here, @channel, @everyone -----------------------------------------------


@pytest.mark.parametrize("word", ["here", "channel", "everyone"])
def test_a_moderators_room_mention_mentions_every_member_but_the_author_and_blockers(room, word):
    moderator = MembershipFactory(room=room, role="moderator").user
    reader, other, blocker = (MembershipFactory(room=room).user for _ in range(3))
    MembershipFactory(room=room, banned_at=timezone.now())  # a banned member is not the room
    Block.objects.create(blocker=blocker, blocked=moderator)
    message = message_post(room=room, author=moderator, body=f"@{word} lunch is here")
    assert set(message.mentions.values_list("id", flat=True)) == {reader.pk, other.pk}
    assert f'<span class="mention mention-room">@{word}</span>' in message.body_html


def test_a_members_room_mention_is_plain_text(room, member):
    MembershipFactory(room=room)
    message = message_post(room=room, author=member, body="@here anyone?")
    assert not message.mentions.exists() and "mention" not in message.body_html


def test_an_edit_keeps_a_moderators_room_mention(room):
    owner = MembershipFactory(room=room, role="owner").user
    reader = MembershipFactory(room=room).user
    message = message_post(room=room, author=owner, body="hello")
    message_edit(room=room, user=owner, message_id=message.pk, body="hello @here")
    assert list(message.mentions.values_list("id", flat=True)) == [reader.pk]


@pytest.mark.parametrize("username", ["here", "channel", "everyone"])
def test_a_room_mention_is_nobodys_username(client, username):
    password = "a-Long-test-password-42"
    client.post(
        "/accounts/signup/",
        {"username": username, "email": "x@example.com", "password1": password, "password2": password},
    )
    assert not get_user_model().objects.filter(username=username).exists()
