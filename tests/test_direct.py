"""Direct conversations and blocking (issue 13, points 4, 5 and 7): one room per set of
people (even for two clicks at once), readable only by its people on every surface,
no join, invitation or settings; the sidebar's Direct messages; blocks."""

import re
import threading

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import IntegrityError, connection
from django.test import Client

from accounts.models import Block
from accounts.services import user_block
from config.asgi import application
from messages_app.models import Report
from messages_app.selectors import membership_list_for_user
from messages_app.services import MessageRejected, message_edit, message_post
from rooms.models import Membership, Room
from rooms.services import (
    DirectBlocked,
    RoomError,
    direct_conversation_open,
    invitation_create,
    room_invite,
    room_join,
    room_leave,
    room_settings_update,
)
from tests.clients import logged_in
from tests.factories import MessageFactory, RoomFactory, UserFactory
from tests.sockets import ORIGIN, live, open_socket, receive_until, session_cookie


@pytest.fixture
def alice(db):
    return UserFactory(username="alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob")


@pytest.fixture
def dm(alice, bob):
    return direct_conversation_open(user=alice, others=[bob])


# --- one conversation per set of people ----------------------------------------------------


def test_the_same_people_always_get_the_same_conversation(alice, bob):
    carol = UserFactory(username="carol")
    room = direct_conversation_open(user=alice, others=[bob])
    assert direct_conversation_open(user=bob, others=[alice]) == room
    assert room.kind == Room.Kind.DIRECT and room.is_private
    assert set(room.memberships.values_list("user__username", "role")) == {
        ("alice", "member"),
        ("bob", "member"),
    }
    group = direct_conversation_open(user=alice, others=[bob, carol])
    assert group != room and direct_conversation_open(user=carol, others=[bob, alice]) == group


def test_the_database_refuses_a_second_room_for_the_same_people(dm):
    with pytest.raises(IntegrityError, match="direct_key"):
        Room.objects.create(name="x", slug="x", kind="direct", is_private=True, direct_key=dm.direct_key)


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_give_one_conversation():
    """Real threads, each with its own Postgres connection, released together."""
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    start, rooms, errors = threading.Barrier(6), [], []

    def click():
        try:
            start.wait()
            rooms.append(direct_conversation_open(user=alice, others=[bob]).pk)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(rooms)) == 1 and len(rooms) == 6
    assert Room.objects.filter(kind="direct").count() == 1
    assert Membership.objects.filter(room_id=rooms[0]).count() == 2


def test_message_endpoint_redirects_to_the_conversation(client, alice, bob):
    client.force_login(alice)
    response = client.post("/people/bob/message/")
    room = Room.objects.get(kind="direct")
    assert response.status_code == 303 and response["Location"] == f"/rooms/{room.slug}/"
    assert client.post("/people/bob/message/")["Location"] == f"/rooms/{room.slug}/"
    assert client.get(f"/rooms/{room.slug}/").status_code == 200


def test_message_endpoint_refusals(client, alice, bob):
    assert client.post("/people/bob/message/").status_code == 302  # to the login page
    client.force_login(alice)
    assert client.get("/people/bob/message/").status_code == 405
    assert client.post("/people/nobody/message/").status_code == 404
    refused = client.post("/people/alice/message/")
    assert refused.status_code == 400 and "someone besides you" in refused.content.decode()
    bob.is_active = False
    bob.save()
    refused = client.post("/people/bob/message/")
    assert refused.status_code == 400 and "account is closed" in refused.content.decode()
    assert not Room.objects.filter(kind="direct").exists()


def test_message_endpoint_needs_csrf(alice, bob):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/people/bob/message/").status_code == 403
    assert not Room.objects.filter(kind="direct").exists()


def test_group_conversation_endpoint(client, alice, bob):
    people = [UserFactory(username=f"p{i}") for i in range(9)]
    client.force_login(alice)
    response = client.post("/dm/new/", {"users": ["bob", "p0"]})
    room = Room.objects.get(kind="direct")
    assert response.status_code == 303 and response["Location"] == room.get_absolute_url()
    assert room.memberships.count() == 3
    assert client.post("/dm/new/", {"users": ["p0", "bob"]})["Location"] == room.get_absolute_url()
    too_many = client.post("/dm/new/", {"users": [p.username for p in people]})
    assert too_many.status_code == 400 and "at most 8 people" in too_many.content.decode()
    # One person (myself aside) is the conversation between the two of us (the picker's contract).
    with_bob = direct_conversation_open(user=alice, others=[bob]).get_absolute_url()
    assert client.post("/dm/new/", {"users": ["bob"]})["Location"] == with_bob
    assert client.post("/dm/new/", {"users": ["bob", "alice"]})["Location"] == with_bob
    assert client.post("/dm/new/", {"users": ["bob", "nobody"]}).status_code == 404
    eight = client.post("/dm/new/", {"users": [p.username for p in people[:8]]})
    assert eight.status_code == 303 and Room.objects.filter(kind="direct").count() == 3


# --- the people picker (GET /dm/new/) ----------------------------------------------------------


def choices(page):
    """The picker's people, in order, as (username, ticked)."""
    boxes = re.findall(r'<input type="checkbox" name="users" value="([^"]+)"( checked)?>', page)
    return [(name, bool(ticked)) for name, ticked in boxes]


def picker(client, query="", users=(), **headers):
    response = client.get("/dm/new/", {"q": query, "users": list(users)}, headers=headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def people(alice, bob):
    """bob, Carol Nguyen, two Sams, someone alice blocked and a closed account."""
    carol = UserFactory(username="carol", display_name="Carol Nguyen")
    UserFactory(username="sam1", display_name="Sam")
    UserFactory(username="sam2", display_name="sam")
    user_block(blocker=alice, blocked=UserFactory(username="mallory"))
    UserFactory(username="gone", is_active=False)
    return carol


def test_the_picker_lists_the_people_one_may_message_but_not_me(alice, people):
    client = logged_in(alice)
    page = picker(client)
    assert "<h1>New conversation</h1>" in page and "<title>New conversation · Chat</title>" in page
    # By shown name; not me, nor whom I blocked, nor a closed account.
    assert choices(page) == [("bob", False), ("carol", False), ("sam1", False), ("sam2", False)]
    assert "Carol Nguyen" in page and "(@carol)" not in page
    assert 'Sam <span class="username">(@sam1)</span>' in page  # two Sams told apart
    assert 'sam <span class="username">(@sam2)</span>' in page
    assert 'class="avatar avatar-small' in page
    assert "4 people." in page


def test_the_picker_filters_by_username_and_display_name(alice, people):
    client = logged_in(alice)
    assert choices(picker(client, "nguyen")) == [("carol", False)]
    assert choices(picker(client, "BO")) == [("bob", False)]
    assert choices(picker(client, "sam")) == [("sam1", False), ("sam2", False)]
    empty = picker(client, "zed")
    assert choices(empty) == [] and "No one matches “zed”." in empty
    assert choices(picker(client, "alice")) == []  # never me
    assert choices(picker(client, "mallory")) == []


def test_picked_people_stay_ticked_and_first_whatever_the_filter(alice, people):
    client = logged_in(alice)
    page = picker(client, "carol", users=["sam2", "bob", "alice"])
    assert choices(page) == [("bob", True), ("sam2", True), ("carol", False)]
    assert "1 person matches “carol”, 2 picked." in page
    assert 'value="carol"' in page and 'name="q" value="carol"' in page


def test_the_live_filter_gets_the_list_alone_with_its_count(alice, people):
    client = logged_in(alice)
    part = picker(client, "sam", users=["bob"], HX_Request="true")
    assert "<html" not in part and "<form" not in part
    assert choices(part) == [("bob", True), ("sam1", False), ("sam2", False)]
    assert '<span id="picker-count" hx-swap-oob="innerHTML">2 people match “sam”, 1 picked.' in part


def test_the_picker_lists_fifty_and_says_there_are_more(alice):
    UserFactory.create_batch(51)
    page = picker(logged_in(alice))
    assert len(choices(page)) == 50 and "Only the first 50 are listed" in page


def test_the_picker_form_filters_by_get_and_starts_by_post_with_csrf(alice, people):
    page = picker(logged_in(alice))
    form = page.split('<form class="people-picker"')[1].split("</form>")[0]
    assert ' method="get" action="/dm/new/"' in form
    # The token is the Start button's value: posted with it, never put in a filter's URL.
    start = re.search(r'<button type="submit" class="picker-start"[^>]*>', form)[0]
    assert 'formmethod="post"' in start and 'name="csrfmiddlewaretoken" value="' in start
    assert form.count("csrfmiddlewaretoken") == 1
    assert form.index('class="secondary picker-filter-button"') < form.index("picker-start")  # Enter filters


def test_starting_needs_csrf(alice, people):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post("/dm/new/", {"users": ["bob", "carol"]}).status_code == 403
    assert not Room.objects.filter(kind="direct").exists()


def test_one_person_picked_is_the_same_conversation_as_message(alice, bob):
    client = logged_in(alice)
    picked = client.post("/dm/new/", {"users": ["bob"], "q": "bo"})
    assert picked.status_code == 303
    assert client.post("/people/bob/message/")["Location"] == picked["Location"]
    room = Room.objects.get(kind="direct")
    assert set(room.memberships.values_list("user__username", flat=True)) == {"alice", "bob"}
    assert logged_in(bob).post("/dm/new/", {"users": ["alice"]})["Location"] == picked["Location"]


def test_two_to_eight_people_picked_open_their_group(alice, bob, people):
    client = logged_in(alice)
    group = client.post("/dm/new/", {"users": ["carol", "bob"]})
    room = Room.objects.get(kind="direct")
    assert group.status_code == 303 and group["Location"] == room.get_absolute_url()
    assert set(room.memberships.values_list("user__username", flat=True)) == {"alice", "bob", "carol"}
    assert direct_conversation_open(user=people, others=[alice, bob]) == room
    eight = [UserFactory(username=f"p{i}").username for i in range(8)]
    assert client.post("/dm/new/", {"users": eight}).status_code == 303
    assert Room.objects.get(kind="direct", memberships__user__username="p7").memberships.count() == 9


@pytest.mark.parametrize(
    ("users", "status", "reason", "kept"),
    [
        ([], 400, "Pick at least one person to talk to.", []),
        (["alice"], 400, "Pick at least one person to talk to.", []),
        ([f"p{i}" for i in range(9)], 400, "at most 8 people besides you", [f"p{i}" for i in range(9)]),
        (["bob", "nobody"], 404, "No one is called nobody.", ["bob"]),
        (["bob", "mallory"], 403, "one of you has blocked the other", ["bob", "mallory"]),
        (["bob", "gone"], 400, "gone cannot be messaged: their account is closed.", ["bob", "gone"]),
    ],
)
def test_a_refused_start_shows_the_picker_again_with_the_reason_and_the_ticks(
    alice, people, users, status, reason, kept
):
    for i in range(9):
        UserFactory(username=f"p{i}")
    response = logged_in(alice).post("/dm/new/", {"users": users, "q": "b"})
    page = response.content.decode()
    assert response.status_code == status
    assert '<p class="error picker-error" id="picker-error" role="alert">' in page and reason in page
    assert [name for name, ticked in choices(page) if ticked] == kept  # by shown name, as listed
    assert 'name="q" value="b"' in page  # the filter kept too
    assert not Room.objects.filter(kind="direct").exists()


def test_the_picker_is_linked_from_the_sidebar_and_the_home_page(alice):
    lobby = RoomFactory(name="Lobby")
    Membership.objects.create(room=lobby, user=alice)
    client = logged_in(alice)
    sidebar = client.get(f"/rooms/{lobby.slug}/").content.decode().split('id="my-direct-messages"')[1]
    button = re.search(
        r'<a class="icon-button new-conversation" href="/dm/new/"[^>]*>.*?</a>', sidebar, re.S
    )[0]
    assert '<span class="visually-hidden">New conversation</span>' in button
    home = client.get("/").content.decode()
    assert '<a class="button secondary new-conversation" href="/dm/new/">New conversation</a>' in home
    assert client.get("/dm/new/").status_code == 200
    assert Client().get("/dm/new/").status_code == 302  # to the login page


@pytest.mark.parametrize("htmx", [False, True])
def test_the_pickers_query_count_does_not_grow_with_the_people_listed(
    alice, htmx, django_assert_max_num_queries
):
    client = logged_in(alice)
    headers = {"HX_Request": "true"} if htmx else {}
    UserFactory(username="picked1")
    UserFactory(username="picked2")
    url = "/dm/new/?users=picked1&users=picked2"
    few = _page_queries(client, url, **headers)
    for _ in range(40):
        UserFactory(avatar="avatars/x")
    assert len(choices(client.get(url, headers=headers).content.decode())) == 42
    assert _page_queries(client, url, **headers) == few
    with django_assert_max_num_queries(4):  # the session, me, the people picked, the people listed
        client.get(url, headers=headers)
    with django_assert_max_num_queries(5):  # a refusal reads the people named once more
        assert client.post("/dm/new/", {"users": ["picked1", "nobody"]}).status_code == 404


# --- only its people, on every surface ------------------------------------------------------


def test_outsiders_see_nothing_of_a_conversation(alice, bob, dm):
    MessageFactory(room=dm, author=alice, body="the secret orchid")
    outsider = logged_in(UserFactory(username="eve"))
    assert outsider.get(f"/rooms/{dm.slug}/").status_code == 404
    assert outsider.get(f"/rooms/{dm.slug}/messages/?before=999999").status_code == 404
    assert outsider.get(f"/rooms/{dm.slug}/search/?q=orchid").status_code == 404
    assert "No messages match" in outsider.get("/search/?q=orchid").content.decode()
    assert dm.slug not in outsider.get("/").content.decode()  # neither listed nor to discover
    assert outsider.post(f"/rooms/{dm.slug}/join/").status_code == 404
    assert outsider.post(f"/rooms/{dm.slug}/messages/", {"body": "hi"}).status_code == 404
    assert "No messages match" not in logged_in(bob).get("/search/?q=orchid").content.decode()
    discover = logged_in(bob).get("/").content.decode().split('id="discover-rooms"')[1]
    assert dm.slug not in discover  # a member's home offers it nobody to join


def test_no_join_no_invitation_no_settings(alice, bob, dm):
    eve = UserFactory(username="eve")
    with pytest.raises(RoomError):
        room_join(room=dm, user=eve)
    with pytest.raises(RoomError):
        room_invite(room=dm, invited_by=alice, username="eve")
    with pytest.raises(RoomError):
        invitation_create(room=dm, created_by=alice)
    with pytest.raises(RoomError):
        room_settings_update(room=dm, actor=alice, name="Renamed", is_private=False)
    assert not Membership.objects.filter(user=eve).exists()
    client = logged_in(alice)
    assert client.post(f"/rooms/{dm.slug}/invite/", {"username": "eve"}).status_code == 403
    assert client.post(f"/rooms/{dm.slug}/settings/", {"name": "x"}).status_code == 403
    assert client.post(f"/rooms/{dm.slug}/archive/").status_code == 403
    page = client.get(f"/rooms/{dm.slug}/").content.decode()
    assert 'id="invite-panel"' not in page and 'id="room-settings"' not in page
    dm.refresh_from_db()
    assert dm.is_private and dm.archived_at is None


def test_the_page_names_the_other_people(alice, bob, dm):
    page = logged_in(alice).get(f"/rooms/{dm.slug}/").content.decode()
    assert "Direct conversation with</span> bob</h1>" in page
    assert 'placeholder="Message bob"' in page and "<title>bob · Chat</title>" in page
    assert (
        "Direct conversation with</span> alice</h1>"
        in logged_in(bob).get(f"/rooms/{dm.slug}/").content.decode()
    )


@live
async def test_the_socket_refuses_outsiders_like_a_private_room():
    alice, bob, eve = [await sync_to_async(UserFactory)(username=n) for n in ("alice", "bob", "eve")]
    dm = await sync_to_async(direct_conversation_open)(user=alice, others=[bob])
    socket = WebsocketCommunicator(
        application, f"/ws/rooms/{dm.slug}/", headers=[ORIGIN, await session_cookie(eve)]
    )
    assert (await socket.connect(timeout=10))[0]
    assert await socket.receive_output(timeout=3) == {"type": "websocket.close", "code": 4404}
    member = await open_socket(dm.slug, bob)
    await sync_to_async(message_post)(room=dm, author=alice, body="hello bob")
    await receive_until(member, "hello bob")
    await member.disconnect()


# --- the sidebar ------------------------------------------------------------------------------


def test_sidebar_lists_conversations_latest_first_with_badges(alice, bob):
    carol = UserFactory(username="carol")
    with_bob = direct_conversation_open(user=alice, others=[bob])
    with_carol = direct_conversation_open(user=alice, others=[carol])
    lobby = RoomFactory(name="Lobby")
    Membership.objects.create(room=lobby, user=alice)
    MessageFactory(room=with_carol, author=carol)
    MessageFactory(room=with_bob, author=bob)  # the latest
    page = logged_in(alice).get(f"/rooms/{lobby.slug}/").content.decode()
    rooms_part, direct_part = page.split('id="my-direct-messages"')
    assert f'data-room="{lobby.slug}"' in rooms_part and with_bob.slug not in rooms_part
    assert direct_part.index(with_bob.slug) < direct_part.index(with_carol.slug)
    assert f'data-room="{with_bob.slug}" data-unread="1"' in direct_part
    assert '<span class="room-name">bob</span>' in direct_part


def _page_queries(client, url, **headers):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, headers=headers).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["/", "room"])
def test_sidebar_query_count_does_not_grow_with_conversations(alice, url, django_assert_max_num_queries):
    lobby = RoomFactory(name="Lobby")
    Membership.objects.create(room=lobby, user=alice)
    client = logged_in(alice)
    url = f"/rooms/{lobby.slug}/" if url == "room" else url
    direct_conversation_open(user=alice, others=[UserFactory()])
    one = _page_queries(client, url)
    for _ in range(6):
        direct_conversation_open(user=alice, others=[UserFactory(), UserFactory()])
    assert _page_queries(client, url) == one
    with django_assert_max_num_queries(one):
        client.get(url)


@live
async def test_a_new_conversation_appears_live_in_the_other_persons_sidebar():
    alice, bob = [await sync_to_async(UserFactory)(username=n) for n in ("alice", "bob")]
    lobby = await sync_to_async(RoomFactory)(name="Lobby")
    await sync_to_async(Membership.objects.create)(room=lobby, user=bob)
    socket = WebsocketCommunicator(application, "/ws/user/", headers=[ORIGIN, await session_cookie(bob)])
    assert (await socket.connect(timeout=10))[0]
    await receive_until(socket, 'id="my-direct-messages"')
    dm = await sync_to_async(direct_conversation_open)(user=alice, others=[bob])
    frame = (await receive_until(socket, f'data-room="{dm.slug}"'))[-1]
    assert 'id="my-direct-messages"' in frame and '<span class="room-name">alice</span>' in frame
    await sync_to_async(message_post)(room=dm, author=alice, body="hi bob")
    frame = (await receive_until(socket, f'data-room="{dm.slug}" data-unread="1"'))[-1]
    assert "unread" in frame
    await socket.disconnect()


# --- blocking ---------------------------------------------------------------------------------


def test_a_block_stops_direct_messages_both_ways(alice, bob, dm):
    user_block(blocker=bob, blocked=alice)
    for user, other in ((alice, bob), (bob, alice)):
        with pytest.raises(DirectBlocked):
            direct_conversation_open(user=user, others=[other])
        with pytest.raises(MessageRejected, match="blocked"):
            message_post(room=dm, author=user, body="hello?")
    refused = logged_in(alice).post("/people/bob/message/")
    assert refused.status_code == 403 and "blocked" in refused.content.decode()
    lobby = RoomFactory()
    for user in (alice, bob):
        Membership.objects.create(room=lobby, user=user)
    message_post(room=lobby, author=alice, body="shared rooms still work")


def test_block_and_unblock_endpoints(alice, bob, dm):
    client = logged_in(bob)
    assert client.post("/people/alice/block/").status_code == 303
    assert Block.objects.filter(blocker=bob, blocked=alice).exists()
    assert client.post("/people/bob/block/").status_code == 400  # not oneself
    assert client.post("/people/nobody/block/").status_code == 404
    assert client.post("/people/alice/unblock/").status_code == 303
    assert not Block.objects.exists()
    message_post(room=dm, author=alice, body="talking again")


def test_the_blockers_room_page_carries_whom_to_fold(alice, bob):
    lobby = RoomFactory()
    for user in (alice, bob):
        Membership.objects.create(room=lobby, user=user)
    MessageFactory(room=lobby, author=alice)
    user_block(blocker=bob, blocked=alice)
    page = logged_in(bob).get(f"/rooms/{lobby.slug}/").content.decode()
    assert f'data-blocked="{alice.pk}"' in page and "Message from a blocked person — show" in page
    assert 'data-blocked=""' in logged_in(alice).get(f"/rooms/{lobby.slug}/").content.decode()


def test_a_blocked_persons_mention_raises_no_badge_for_the_blocker(alice, bob):
    lobby = RoomFactory()
    carol = UserFactory(username="carol")
    for user in (alice, bob, carol):
        Membership.objects.create(room=lobby, user=user)
    user_block(blocker=bob, blocked=alice)
    message = message_post(room=lobby, author=alice, body="@bob @carol look")
    assert set(message.mentions.values_list("username", flat=True)) == {"carol"}
    edited = message_edit(room=lobby, user=alice, message_id=message.pk, body="@bob only you")
    assert not edited.mentions.exists()
    badges = {
        m.user.username: m.unread_mentions > 0 for u in (bob, carol) for m in membership_list_for_user(user=u)
    }
    assert badges == {"bob": False, "carol": False}  # carol's mention was edited away


# --- the admin --------------------------------------------------------------------------------


def test_staff_see_a_conversation_in_the_admin_only_once_reported(alice, bob, dm):
    staff = logged_in(UserFactory(is_staff=True, is_superuser=True))
    message = MessageFactory(room=dm, author=alice, body="private words")
    public = MessageFactory(body="public words")
    listing = staff.get("/admin/messages_app/message/").content.decode()
    assert "public words" in listing and "private words" not in listing
    assert "alice, bob" not in listing  # nor in the room filter's choices
    assert dm.slug not in staff.get("/admin/rooms/room/").content.decode()
    assert "alice, bob" not in staff.get("/admin/rooms/membership/").content.decode()
    assert staff.get(f"/admin/messages_app/message/{message.pk}/change/").status_code == 302  # not found
    Report.objects.create(message=message, reporter=bob, reason="rude")
    assert "private words" in staff.get("/admin/messages_app/message/").content.decode()
    assert dm.slug in staff.get("/admin/rooms/room/").content.decode()
    assert "alice, bob" in staff.get("/admin/rooms/membership/").content.decode()
    assert public.pk


@live
async def test_a_blocked_send_over_the_socket_is_refused_in_the_composer():
    alice, bob = [await sync_to_async(UserFactory)(username=n) for n in ("alice", "bob")]
    dm = await sync_to_async(direct_conversation_open)(user=alice, others=[bob])
    socket = await open_socket(dm.slug, alice)
    await sync_to_async(user_block)(blocker=bob, blocked=alice)
    await socket.send_json_to({"body": "are you there?"})
    frame = (await receive_until(socket, 'id="composer-errors"'))[-1]
    assert "one of you has blocked the other" in frame
    assert not await sync_to_async(dm.messages.exists)()
    await socket.disconnect()


def test_mentions_and_unread_work_in_a_conversation(alice, bob, dm):
    message_post(room=dm, author=alice, body="@bob look")
    (membership,) = [m for m in membership_list_for_user(user=bob) if m.room_id == dm.pk]
    assert membership.unread_count == 1 and membership.unread_mentions
    assert [user.username for user in membership.others] == ["alice"]


def test_who_left_is_back_when_the_conversation_is_opened_again(alice, bob, dm):
    room_leave(room=dm, user=bob)
    assert logged_in(bob).get(f"/rooms/{dm.slug}/").status_code == 404
    assert direct_conversation_open(user=alice, others=[bob]) == dm
    assert logged_in(bob).get(f"/rooms/{dm.slug}/").status_code == 200
