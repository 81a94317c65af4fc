"""What a banned member sees: the room's banned page (403, in the layout, with the
reason and the way back, logged as one line), the live notice in place of the room,
and the ban-watch socket that brings the room back once the ban is lifted."""

import logging

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from config.asgi import application
from messages_app import moderation
from messages_app.models import ModerationAction
from tests.factories import MembershipFactory, MessageFactory, RoomFactory, UserFactory
from tests.sockets import ORIGIN, live, open_socket, receive_until, session_cookie

PAGE = ModerationAction.Source.PAGE
REASON = "posting <b>spam</b> links"


@pytest.fixture
def owner(room):
    return MembershipFactory(room=room, role="owner").user


@pytest.fixture
def banned(room, member, owner):
    MessageFactory(room=room, author=owner, body="history the banned must not read")
    moderation.member_ban(room=room, user=member, actor=owner, source=PAGE, reason=REASON)
    client = Client()
    client.force_login(member)
    return client


# --- the banned page ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_banned_member_gets_the_rooms_banned_page_in_the_layout(
    banned, room, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):  # session, user, room, membership, reason, sidebar
        response = banned.get(f"/rooms/{room.slug}/")
    page = response.content.decode()

    assert response.status_code == 403
    assert {"base.html", "messages_app/banned.html"} <= {t.name for t in response.templates}
    assert f"You have been banned from {room.name}." in page
    assert "Reason: posting &lt;b&gt;spam&lt;/b&gt; links" in page  # escaped
    assert '<a class="button" href="/">Back to all rooms</a>' in page
    assert 'class="topbar"' in page and "css/chat.css" in page  # the app's layout and style
    assert f'ws-connect="/ws/rooms/{room.slug}/ban/"' in page  # to come back when lifted
    for absent in ("history the banned must not read", 'id="messages"', "Here now", 'id="composer-body"'):
        assert absent not in page


@pytest.mark.django_db
def test_the_banned_page_gives_no_reason_when_none_was_given(room, member, owner):
    moderation.member_ban(room=room, user=member, actor=owner, source=PAGE)
    client = Client()
    client.force_login(member)
    response = client.get(f"/rooms/{room.slug}/")
    assert response.status_code == 403 and "Reason:" not in response.content.decode()


@pytest.mark.django_db
def test_the_latest_ban_gives_the_reason(room, member, owner):
    moderation.member_ban(room=room, user=member, actor=owner, source=PAGE, reason="first time")
    moderation.member_unban(room=room, user=member, actor=owner, source=PAGE)
    moderation.member_ban(room=room, user=member, actor=owner, source=PAGE, reason="second time")
    client = Client()
    client.force_login(member)
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert "Reason: second time" in page and "first time" not in page


# --- the 403 in the log: one line -------------------------------------------------------------


def request_log(caplog):
    return [record for record in caplog.records if record.name == "django.request"]


@pytest.mark.django_db
def test_the_banned_page_is_logged_as_one_line_without_a_traceback(banned, room, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        banned.get(f"/rooms/{room.slug}/")
    (record,) = request_log(caplog)
    assert record.levelname == "WARNING" and record.getMessage() == f"Forbidden: /rooms/{room.slug}/"
    assert record.exc_info is None and "Traceback" not in caplog.text


@pytest.mark.django_db
def test_a_raised_permission_denied_is_logged_as_one_line_with_its_words(banned, room, caplog):
    """Other views refuse a banned member by raising PermissionDenied, which Django
    logs with its traceback unless config/logfilters.py's RefusalFilter drops it."""
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert banned.post(f"/rooms/{room.slug}/join/").status_code == 403
    (record,) = request_log(caplog)
    expected = f"Forbidden (Permission denied): /rooms/{room.slug}/join/ (You are banned from this room.)"
    assert record.getMessage() == expected
    assert record.exc_info is None and "Traceback" not in caplog.text


# --- live: the notice, and the ban-watch socket ------------------------------------------------


async def open_ban_watch(slug, user=None):
    headers = [ORIGIN] + ([await session_cookie(user)] if user is not None else [])
    socket = WebsocketCommunicator(application, f"/ws/rooms/{slug}/ban/", headers=headers)
    connected, _ = await socket.connect(timeout=10)
    assert connected
    return socket


@sync_to_async
def room_with_owner_and_member(**room_options):
    room = RoomFactory(**room_options)
    owner = MembershipFactory(room=room, role="owner").user
    other = MembershipFactory(room=room).user
    return room, owner, MembershipFactory(room=room).user, other


async def ban(room, user, owner, reason=""):
    await sync_to_async(moderation.member_ban)(room=room, user=user, actor=owner, source=PAGE, reason=reason)


async def unban(room, user, owner):
    await sync_to_async(moderation.member_unban)(room=room, user=user, actor=owner, source=PAGE)


@live
async def test_the_live_notice_takes_the_place_of_the_room_and_the_sidebar_drops_it():
    room, owner, member, _ = await room_with_owner_and_member(name="The Lounge")
    elsewhere = await sync_to_async(RoomFactory)(name="Elsewhere")
    await sync_to_async(MembershipFactory)(room=elsewhere, user=member)
    socket = await open_socket(room.slug, member)

    await ban(room, member, owner, reason="too loud")

    notice = (await receive_until(socket, "banned"))[-1]
    assert '<main id="room" class="room banned-room"' in notice and 'hx-swap-oob="true"' in notice
    assert "Reason: too loud" in notice and f'ws-connect="/ws/rooms/{room.slug}/ban/"' in notice
    assert 'id="messages"' not in notice and 'id="presence"' not in notice
    sidebar = notice[notice.index('id="my-room-links"') :]
    assert "Elsewhere" in sidebar and "The Lounge" not in sidebar
    assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 4403}


@live
async def test_the_ban_watch_brings_the_room_back_when_the_ban_is_lifted():
    room, owner, member, other = await room_with_owner_and_member()
    await ban(room, member, owner)
    watch = await open_ban_watch(room.slug, member)
    await sync_to_async(moderation.member_ban)(room=room, user=other, actor=owner, source=PAGE)
    await unban(room, other, owner)  # someone else's unban: nothing for this page
    assert await watch.receive_nothing(timeout=0.5)

    await unban(room, member, owner)

    frame = await watch.receive_from(timeout=3)
    assert 'id="ban-watch" hx-swap-oob="true"' in frame
    assert f'hx-get="/rooms/{room.slug}/" hx-trigger="load"' in frame and 'hx-select=".room-layout"' in frame
    assert await watch.receive_output(timeout=3) == {"type": "websocket.close", "code": 1000}


@live
async def test_a_ban_lifted_before_the_watch_opened_brings_the_room_back_at_once():
    room, owner, member, _ = await room_with_owner_and_member()
    await ban(room, member, owner)
    await unban(room, member, owner)  # while the banned page was loading, say

    watch = await open_ban_watch(room.slug, member)

    assert 'id="ban-watch" hx-swap-oob="true"' in await watch.receive_from(timeout=3)
    assert await watch.receive_output(timeout=3) == {"type": "websocket.close", "code": 1000}


@live
async def test_the_ban_watch_needs_a_login_and_reveals_no_private_room():
    room, *_ = await room_with_owner_and_member(is_private=True)
    stranger = await sync_to_async(UserFactory)()
    anonymous = await open_ban_watch(room.slug)
    assert await anonymous.receive_output(timeout=3) == {"type": "websocket.close", "code": 4401}
    for slug in (room.slug, "no-such-room"):
        socket = await open_ban_watch(slug, stranger)
        assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 4404}
