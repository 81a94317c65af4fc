"""Pins (issue 16, point 3): owners and moderators pin and unpin; the room's pins panel
lists them, live; a deleted message leaves it."""

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse
from django.utils import timezone

from messages_app.models import Message
from messages_app.selectors import message_list_pinned
from messages_app.services import MessageRejected, message_delete, message_pin_toggle, message_post
from rooms.models import Membership
from tests.clients import logged_in
from tests.factories import MembershipFactory, RoomFactory, UserFactory
from tests.sockets import live, make_member, open_socket, receive_all


@pytest.fixture
def moderator(room):
    return MembershipFactory(room=room, role=Membership.Role.MODERATOR).user


@pytest.fixture
def message(room, member):
    return message_post(room=room, author=member, body="The release checklist")


@pytest.mark.django_db
def test_a_moderator_pins_and_unpins_and_the_list_follows(room, moderator, message):
    later = message_post(room=room, author=moderator, body="Office hours")
    message_pin_toggle(room=room, user=moderator, message_id=message.pk)
    message_pin_toggle(room=room, user=moderator, message_id=later.pk)
    assert [pinned.pk for pinned in message_list_pinned(room=room)] == [later.pk, message.pk]
    saved = Message.objects.get(pk=message.pk)
    assert saved.pinned_by == moderator and saved.changed_at is not None
    message_pin_toggle(room=room, user=moderator, message_id=message.pk)
    assert [pinned.pk for pinned in message_list_pinned(room=room)] == [later.pk]


@pytest.mark.django_db
def test_members_outsiders_and_other_rooms_cannot_pin(room, member, moderator, message):
    with pytest.raises(MessageRejected, match="owners and moderators"):
        message_pin_toggle(room=room, user=member, message_id=message.pk)
    with pytest.raises(MessageRejected):
        message_pin_toggle(room=room, user=UserFactory(), message_id=message.pk)
    elsewhere = MembershipFactory(user=moderator, role=Membership.Role.MODERATOR).room
    with pytest.raises(MessageRejected, match="does not exist in this room"):
        message_pin_toggle(room=elsewhere, user=moderator, message_id=message.pk)
    assert Message.objects.get(pk=message.pk).pinned_at is None


@pytest.mark.django_db
def test_a_deleted_message_leaves_the_pins_and_cannot_be_pinned(room, moderator, message):
    message_pin_toggle(room=room, user=moderator, message_id=message.pk)
    message_delete(room=room, user=moderator, message_id=message.pk)
    assert message_list_pinned(room=room) == []
    assert Message.objects.get(pk=message.pk).pinned_at is None
    with pytest.raises(MessageRejected, match="was deleted"):
        message_pin_toggle(room=room, user=moderator, message_id=message.pk)


@pytest.mark.django_db
def test_the_pin_url_toggles_for_moderators_and_refuses_others(room, member, moderator, message):
    url = reverse("message_pin", args=[room.slug, message.pk])
    assert logged_in(member).post(url).status_code == 403
    assert logged_in(moderator).post(url).status_code == 303
    assert Message.objects.get(pk=message.pk).pinned_at is not None
    assert logged_in(moderator).post(url, headers={"HX-Request": "true"}).status_code == 204
    assert Message.objects.get(pk=message.pk).pinned_at is None
    assert logged_in(moderator).get(url).status_code == 405
    secret = RoomFactory(is_private=True)
    assert (
        logged_in(moderator).post(reverse("message_pin", args=[secret.slug, message.pk])).status_code == 404
    )


@pytest.mark.django_db
def test_the_pins_page_lists_them_escaped_and_is_private_to_members(room, member, moderator):
    pinned = message_post(room=room, author=member, body="<script>alert(1)</script> read me")
    message_pin_toggle(room=room, user=moderator, message_id=pinned.pk)
    url = reverse("room_pins", args=[room.slug])
    html = logged_in(member).get(url, headers={"HX-Request": "true"}).content.decode()
    assert f"?around={pinned.pk}#message-{pinned.pk}" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; read me" in html and "<script>alert" not in html
    assert "<!doctype html>" in logged_in(member).get(url).content.decode().lower()
    secret = RoomFactory(is_private=True)
    assert logged_in(member).get(reverse("room_pins", args=[secret.slug])).status_code == 404


@pytest.mark.django_db
def test_the_room_page_offers_the_pins_panel_and_marks_a_pinned_message(room, member, moderator, message):
    message_pin_toggle(room=room, user=moderator, message_id=message.pk)
    html = logged_in(member).get(room.get_absolute_url()).content.decode()
    assert 'id="room-pins"' in html and f'hx-get="{reverse("room_pins", args=[room.slug])}"' in html
    assert 'class="pinned-mark">Pinned<' in html and ">Unpin</button>" in html


@live
async def test_a_pin_reaches_every_page_with_the_new_list():
    room = await sync_to_async(RoomFactory)()
    author = await make_member(room)
    moderator = await make_member(room, role=Membership.Role.MODERATOR)
    message = await sync_to_async(message_post)(room=room, author=author, body="pin me")
    viewer = await open_socket(room.slug, author)

    await sync_to_async(message_pin_toggle)(room=room, user=moderator, message_id=message.pk)

    frames = await receive_all(viewer, 'id="pins-list"', 'class="pinned-mark"')
    pins = next(frame for frame in frames if 'id="pins-list"' in frame)
    assert 'hx-swap-oob="true"' in pins and "pin me" in pins
    await viewer.disconnect()


@pytest.mark.django_db
def test_a_page_that_reconnects_sees_a_pin_made_while_it_was_away(room, member, moderator, message):
    client = logged_in(member)
    since = timezone.now().isoformat()
    message_pin_toggle(room=room, user=moderator, message_id=message.pk)
    catch_up = {"after": message.pk, "changed_since": since}
    html = client.get(reverse("room_messages", args=[room.slug]), catch_up).content.decode()
    assert f'id="message-{message.pk}"' in html and '<span class="pinned-mark">Pinned</span>' in html
    message_pin_toggle(room=room, user=moderator, message_id=message.pk)  # and the unpin, later
    html = client.get(reverse("room_messages", args=[room.slug]), catch_up).content.decode()
    assert f'id="message-{message.pk}"' in html and "pinned-mark" not in html
