"""Nothing lost, nothing twice: idempotent sends (a database constraint), the
catch-up a reconnecting page asks for, and the gap marker on live frames."""

import threading
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone

from messages_app.frames import FrameError, parse_frame
from messages_app.models import Message
from messages_app.services import MessageRejected, message_delete, message_edit, message_post
from tests.factories import MembershipFactory, MessageFactory, RoomFactory
from tests.sockets import live, open_socket, receive_until

# --- idempotent send ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_retried_send_returns_the_first_message(room, member):
    client_id = uuid.uuid4()
    first = message_post(room=room, author=member, body="only once", client_id=client_id)
    again = message_post(room=room, author=member, body="only once", client_id=client_id)
    assert first.pk == again.pk and Message.objects.count() == 1


@pytest.mark.django_db
def test_a_client_id_used_by_someone_else_is_refused(room, member):
    client_id = uuid.uuid4()
    message_post(room=room, author=member, body="mine", client_id=client_id)
    intruder = MembershipFactory(room=room).user
    with pytest.raises(MessageRejected, match="already used"):
        message_post(room=room, author=intruder, body="theirs", client_id=client_id)
    assert Message.objects.count() == 1


@pytest.mark.django_db
def test_the_guarantee_is_a_database_constraint(room, member):
    from django.db import IntegrityError, transaction

    client_id = uuid.uuid4()
    MessageFactory(room=room, author=member, client_id=client_id)
    with pytest.raises(IntegrityError), transaction.atomic():
        MessageFactory(room=room, author=member, client_id=client_id)


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_of_one_send_save_one_message():
    room = RoomFactory()
    member = MembershipFactory(room=room).user
    client_id, results, barrier = uuid.uuid4(), [], threading.Barrier(4)

    def send():
        barrier.wait()
        try:
            results.append(message_post(room=room, author=member, body="race", client_id=client_id).pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Message.objects.filter(client_id=client_id).count() == 1
    assert len(results) == 4 and len(set(results)) == 1


def test_frames_carry_an_optional_client_id():
    client_id = uuid.uuid4()
    assert parse_frame(f'{{"body": "hi", "client_id": "{client_id}"}}').client_id == client_id
    assert parse_frame('{"body": "hi"}').client_id is None
    with pytest.raises(FrameError, match="bad message id"):
        parse_frame('{"body": "hi", "client_id": "not-a-uuid"}')


@pytest.mark.django_db
def test_the_post_fallback_is_idempotent_too(client, room, member):
    client.force_login(member)
    client_id = str(uuid.uuid4())
    for _ in range(2):
        client.post(f"/rooms/{room.slug}/messages/", {"body": "double click", "client_id": client_id})
    assert Message.objects.filter(body="double click").count() == 1


@pytest.mark.django_db
def test_the_composer_carries_a_fresh_client_id(client, room, member):
    client.force_login(member)
    pages = [client.get(f"/rooms/{room.slug}/").content.decode() for _ in range(2)]
    ids = [page.split('name="client_id" value="')[1].split('"')[0] for page in pages]
    assert ids[0] != ids[1] and all(uuid.UUID(value) for value in ids)


@live
async def test_a_resent_frame_over_the_socket_posts_once():
    room = await sync_to_async(RoomFactory)()
    member = (await sync_to_async(MembershipFactory)(room=room)).user
    socket = await open_socket(room.slug, member)
    frame = {"body": "flaky network", "client_id": str(uuid.uuid4())}

    for _ in range(3):
        await socket.send_json_to(frame)
        await receive_until(socket, "flaky network")

    assert await Message.objects.filter(body="flaky network").acount() == 1
    await socket.disconnect()


# --- catch-up -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_catch_up_returns_new_messages_and_changes_since_the_last_sync(client, room, member):
    old, edited, deleted = (message_post(room=room, author=member, body=f"m{n}") for n in range(3))
    client.force_login(member)
    synced_at = timezone.now().isoformat()
    message_edit(room=room, user=member, message_id=edited.pk, body="m1 edited")
    message_delete(room=room, user=member, message_id=deleted.pk)
    new = message_post(room=room, author=member, body="m3")

    html = client.get(
        f"/rooms/{room.slug}/messages/", {"after": deleted.pk, "changed_since": synced_at}
    ).content.decode()

    assert f'id="message-{new.pk}"' in html
    assert f'<article id="message-{edited.pk}"' in html and "m1 edited" in html
    assert f'<article id="message-{deleted.pk}"' in html and "message deleted" in html
    assert html.count('hx-swap-oob="true"') >= 3  # two replacements and the new sync time
    assert 'id="sync-state"' in html and f'id="message-{old.pk}"' not in html


@pytest.mark.django_db
def test_catch_up_without_changed_since_is_the_plain_after_page(client, room, member):
    first = message_post(room=room, author=member, body="one")
    message_edit(room=room, user=member, message_id=first.pk, body="one, edited")
    client.force_login(member)
    html = client.get(f"/rooms/{room.slug}/messages/", {"after": first.pk}).content.decode()
    assert "hx-swap-oob" not in html


@pytest.mark.django_db
def test_catch_up_query_count_is_constant(client, room, member, django_assert_max_num_queries):
    synced_at = timezone.now().isoformat()
    for n in range(30):
        message = message_post(room=room, author=member, body=f"n{n}")
        message_edit(room=room, user=member, message_id=message.pk, body=f"n{n}!")
    client.force_login(member)
    # session, user, room, membership; the new and the changed messages, and the files and the
    # reactions of each: ten, however many messages came or changed
    with django_assert_max_num_queries(10):
        client.get(f"/rooms/{room.slug}/messages/", {"after": 0, "changed_since": synced_at})


@live
async def test_live_frames_name_the_previous_message_so_pages_see_gaps():
    room = await sync_to_async(RoomFactory)()
    member = (await sync_to_async(MembershipFactory)(room=room)).user
    first = await sync_to_async(message_post)(room=room, author=member, body="first")
    socket = await open_socket(room.slug, member)

    second = await sync_to_async(message_post)(room=room, author=member, body="second")

    frame = (await receive_until(socket, f'id="message-{second.pk}"'))[-1]
    assert f'data-prev="{first.pk}"' in frame
    await socket.disconnect()
