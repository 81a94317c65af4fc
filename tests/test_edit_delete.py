"""Editing and deleting one's own messages (and moderators deleting any), through
the same services from the consumer and the HTTP views, live for every viewer."""

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient, Client
from django.utils import timezone

from messages_app.models import Message
from messages_app.services import MessageRejected, message_delete, message_edit, message_post
from rooms.models import Membership
from tests.factories import MembershipFactory, RoomFactory, UserFactory
from tests.sockets import live, open_socket, receive_until

# --- services ----------------------------------------------------------------------------


@pytest.fixture
def message(room, member):
    return message_post(room=room, author=member, body="first version")


@pytest.mark.django_db
def test_edit_own_message_rerenders_and_marks_edited(room, member, message):
    friend = MembershipFactory(room=room).user
    edited = message_edit(
        room=room, user=member, message_id=message.pk, body=f"**second** @{friend.username}"
    )
    saved = Message.objects.get(pk=message.pk)
    assert saved.body.startswith("**second**") and "<strong>second</strong>" in saved.body_html
    assert saved.edited_at is not None and edited.edited_at == saved.edited_at
    assert list(saved.mentions.all()) == [friend]


@pytest.mark.django_db
@pytest.mark.parametrize("body, error", [("  ", "Write something"), ("x" * 4001, "at most 4,000")])
def test_edit_applies_the_posting_rules(room, member, message, body, error):
    with pytest.raises(MessageRejected, match=error):
        message_edit(room=room, user=member, message_id=message.pk, body=body)
    assert Message.objects.get(pk=message.pk).body == "first version"


@pytest.mark.django_db
def test_nobody_edits_someone_elses_message_not_even_a_moderator(room, message):
    moderator = MembershipFactory(room=room, role=Membership.Role.MODERATOR).user
    with pytest.raises(MessageRejected, match="your own"):
        message_edit(room=room, user=moderator, message_id=message.pk, body="hijacked")


@pytest.mark.django_db
def test_edit_or_delete_a_message_of_another_room_is_refused(room, member):
    elsewhere = MembershipFactory(user=member).room
    foreign = message_post(room=elsewhere, author=member, body="elsewhere")
    with pytest.raises(MessageRejected, match="does not exist in this room"):
        message_edit(room=room, user=member, message_id=foreign.pk, body="moved?")
    with pytest.raises(MessageRejected, match="does not exist in this room"):
        message_delete(room=room, user=member, message_id=foreign.pk)


@pytest.mark.django_db
def test_delete_own_message_keeps_the_row_marked_deleted(room, member, message):
    message_delete(room=room, user=member, message_id=message.pk)
    saved = Message.objects.get(pk=message.pk)
    assert saved.deleted_at is not None and saved.deleted_by == member
    with pytest.raises(MessageRejected, match="was deleted"):
        message_edit(room=room, user=member, message_id=message.pk, body="back?")


@pytest.mark.django_db
def test_members_cannot_delete_others_messages_but_owners_and_moderators_can(room, message):
    plain = MembershipFactory(room=room).user
    with pytest.raises(MessageRejected, match="your own"):
        message_delete(room=room, user=plain, message_id=message.pk)
    owner = MembershipFactory(room=room, role=Membership.Role.OWNER).user
    message_delete(room=room, user=owner, message_id=message.pk)
    assert Message.objects.get(pk=message.pk).deleted_by == owner


@pytest.mark.django_db
def test_a_moderator_of_another_room_has_no_power_here(room, message):
    other_room_moderator = MembershipFactory(role=Membership.Role.MODERATOR).user
    MembershipFactory(room=room, user=other_room_moderator)
    with pytest.raises(MessageRejected):
        message_delete(room=room, user=other_room_moderator, message_id=message.pk)
    assert Message.objects.get(pk=message.pk).deleted_at is None


@pytest.mark.django_db
def test_banned_author_can_no_longer_edit(room, member, message):
    Membership.objects.filter(room=room, user=member).update(banned_at=timezone.now())
    with pytest.raises(MessageRejected, match="banned"):
        message_edit(room=room, user=member, message_id=message.pk, body="after the ban")


# --- HTTP views ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_edit_form_then_save_by_htmx(client, room, member, message):
    client.force_login(member)
    form = client.get(f"/rooms/{room.slug}/messages/{message.pk}/edit/")
    assert form.status_code == 200 and "first version</textarea>" in form.content.decode()

    saved = client.post(
        f"/rooms/{room.slug}/messages/{message.pk}/edit/",
        {"body": "fixed typo"},
        headers={"HX-Request": "true"},
    )
    html = saved.content.decode()
    assert saved.status_code == 200 and "fixed typo" in html and "(edited)" in html


@pytest.mark.django_db
def test_edit_refusal_keeps_the_draft_in_the_form(client, room, member, message):
    client.force_login(member)
    response = client.post(f"/rooms/{room.slug}/messages/{message.pk}/edit/", {"body": "y" * 4001})
    assert response.status_code == 400 and "y" * 4001 in response.content.decode()


@pytest.mark.django_db
def test_someone_elses_message_gets_no_edit_form(client, room, message):
    other = MembershipFactory(room=room).user
    client.force_login(other)
    assert client.get(f"/rooms/{room.slug}/messages/{message.pk}/edit/").status_code == 403
    assert client.post(f"/rooms/{room.slug}/messages/{message.pk}/edit/", {"body": "x"}).status_code == 400
    assert client.post(f"/rooms/{room.slug}/messages/{message.pk}/delete/").status_code == 403
    assert Message.objects.get(pk=message.pk).body == "first version"


@pytest.mark.django_db
def test_delete_by_plain_post_redirects_and_shows_placeholder(client, room, member, message):
    client.force_login(member)
    response = client.post(f"/rooms/{room.slug}/messages/{message.pk}/delete/")
    assert response.status_code == 303
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert "message deleted" in page and "first version" not in page


@pytest.mark.django_db
def test_edit_and_delete_are_csrf_protected(room, member, message):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.post(f"/rooms/{room.slug}/messages/{message.pk}/edit/", {"body": "x"}).status_code == 403
    assert client.post(f"/rooms/{room.slug}/messages/{message.pk}/delete/").status_code == 403
    assert Message.objects.get(pk=message.pk).deleted_at is None


@pytest.mark.django_db
def test_private_room_messages_are_404_for_outsiders(client):
    private = RoomFactory(is_private=True)
    author = MembershipFactory(room=private).user
    secret = message_post(room=private, author=author, body="secret")
    client.force_login(UserFactory())
    for url in ("", "edit/", "delete/"):
        method = client.post if url == "delete/" else client.get
        assert method(f"/rooms/{private.slug}/messages/{secret.pk}/{url}").status_code == 404


# --- live, over WebSockets ------------------------------------------------------------------------


@sync_to_async
def room_with_two_members_and_a_message():
    room = RoomFactory()
    author, reader = MembershipFactory(room=room).user, MembershipFactory(room=room).user
    return room, author, reader, message_post(room=room, author=author, body="original text")


@live
async def test_an_edit_by_http_replaces_the_message_in_place_for_every_viewer():
    room, author, reader, message = await room_with_two_members_and_a_message()
    viewer = await open_socket(room.slug, reader)
    client = AsyncClient()
    await client.aforce_login(author)

    await client.post(f"/rooms/{room.slug}/messages/{message.pk}/edit/", {"body": "better text"})

    frame = (await receive_until(viewer, "better text"))[-1]
    assert frame.startswith(f'<article id="message-{message.pk}"') and 'hx-swap-oob="true"' in frame
    assert "(edited)" in frame
    await viewer.disconnect()


@live
async def test_edit_and_delete_over_the_socket_reach_every_viewer():
    room, author, reader, message = await room_with_two_members_and_a_message()
    viewer, editor = await open_socket(room.slug, reader), await open_socket(room.slug, author)

    await editor.send_json_to({"action": "edit", "message_id": message.pk, "body": "edited live"})
    await receive_until(viewer, "edited live")
    await editor.send_json_to({"action": "delete", "message_id": str(message.pk)})

    frame = (await receive_until(viewer, "message deleted"))[-1]
    assert f'id="message-{message.pk}"' in frame and "edited live" not in frame
    assert (await Message.objects.aget(pk=message.pk)).deleted_at is not None
    await viewer.disconnect()
    await editor.disconnect()


@live
async def test_forged_edits_get_an_error_and_change_nothing():
    room, author, reader, message = await room_with_two_members_and_a_message()
    forger = await open_socket(room.slug, reader)

    for frame in (
        {"action": "edit", "message_id": message.pk, "body": "not mine"},
        {"action": "delete", "message_id": message.pk},
        {"action": "edit", "message_id": 10**12, "body": "nowhere"},
        {"action": "delete", "message_id": "abc"},
        {"action": "explode"},
    ):
        await forger.send_json_to(frame)
        error = (await receive_until(forger, 'id="composer-errors"'))[-1]
        assert '<p class="error">' in error

    saved = await Message.objects.aget(pk=message.pk)
    assert saved.body == "original text" and saved.deleted_at is None and saved.edited_at is None
    await forger.disconnect()
