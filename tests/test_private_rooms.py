"""A private room leaks nothing to people outside it.

The room has distinctive content (name, topic, slug, message text, member
usernames). Someone outside it (never in it, a former member, a moderator of
another room) requests every URL the project has (tests/url_walk.py), for that
room and globally: the room's URLs answer exactly as those of a missing room, the
global pages (directory with its unread badges, search, account pages, admin)
never show the distinctive strings, and their open socket elsewhere hears
nothing of the room.

Covered elsewhere and not repeated here: sockets to the room close with 4404
like a missing room's (tests/test_consumer.py); presence and typing reach only
the room's group (tests/test_presence.py); invite links, live, dead and unknown
(tests/test_invitations.py: a live link is meant to show the room's name and
topic to whoever holds it).
"""

import asyncio
import re

import pytest
from asgiref.sync import sync_to_async
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from attachments.models import Attachment
from messages_app.services import message_edit, message_post
from rooms.models import Membership, Room
from rooms.services import (
    direct_conversation_open,
    invitation_create,
    invitation_revoke,
    room_invite,
    room_leave,
)
from tests.factories import MembershipFactory, RoomFactory, UserFactory
from tests.sockets import joined_socket, live, open_socket, receive_until
from tests.url_walk import project_routes

OWNER, MODERATOR = Membership.Role.OWNER, Membership.Role.MODERATOR
SECRET_CODE = "zebra-quartz-4815"
SECRETS = [
    "Orchid Vault",
    "orchid-vault",
    "midnight heist",
    SECRET_CODE,
    "vaultkeeper",
    "safecracker",
]
MISSING = "no-such-room"
# Query strings a room URL is requested with: history pages, catch-up, around a message, search.
ROOM_QUERIES = {
    "room_detail": ["", "?around={pk}"],
    "room_messages": ["?before=1000000", "?after=0", "?after=0&changed_since=2000-01-01T00:00:00Z"],
    "room_search": ["?q=combination", "?q=combination&before=1000000"],
}
FORM = {"body": "hello?", "username": "outsider", "expires": "never", "seconds": "5", "reason": "spam"}


def create_vault():
    """The private room, its members, messages (one edited) and invite links (one revoked)."""
    keeper, cracker = UserFactory(username="vaultkeeper"), UserFactory(username="safecracker")
    vault = RoomFactory(name="Orchid Vault", slug="orchid-vault", topic="The midnight heist", is_private=True)
    MembershipFactory(room=vault, user=keeper, role=OWNER)
    MembershipFactory(room=vault, user=cracker, role=MODERATOR)
    message = message_post(room=vault, author=keeper, body=f"the combination is {SECRET_CODE} @safecracker")
    plan = SimpleUploadedFile(f"{SECRET_CODE}.pdf", b"%PDF-1.4\n%%EOF\n")  # its name is a secret too
    message_post(room=vault, author=cracker, body="the floor plan", files=[plan])
    reply = message_post(room=vault, author=cracker, body="combination noted")
    message_edit(room=vault, user=cracker, message_id=reply.pk, body="combination noted, vaultkeeper")
    invitation_create(room=vault, created_by=keeper)
    dead_link = invitation_create(room=vault, created_by=keeper)
    invitation_revoke(invitation=dead_link, revoked_by=keeper)
    return vault, message, cracker, dead_link


@pytest.fixture
def vault(db):
    return create_vault()


def outsider_of(vault, kind):
    """Someone the room does not exist for; each is a member of a public room."""
    user = UserFactory()
    role = MODERATOR if kind == "moderator" else Membership.Role.MEMBER
    MembershipFactory(room=RoomFactory(name="Lobby"), user=user, role=role)
    if kind == "former member":
        MembershipFactory(room=vault, user=user)
        room_leave(room=vault, user=user)
    return user


def room_requests(values):
    """(method, route, query) for every URL of a room, with the query strings it is read with."""
    for route in project_routes():
        if "slug" not in route.parameters:
            continue
        for query in ROOM_QUERIES.get(route.name, [""]):
            yield "get", route, query.format(**values)
        yield "post", route, ""


def answers_for(client, slug, values):
    """What each room URL answers for `slug`: status, type, redirect and body."""
    answers = {}
    for method, route, query in room_requests(values):
        path = route.path({**values, "slug": slug}) + query
        response = client.post(path, FORM) if method == "post" else client.get(path)
        key = f"{method} {path.replace(slug, '<slug>')}"
        answers[key] = (
            response.status_code,
            response["Content-Type"],
            response.get("Location"),
            response.content,
        )
    return answers


# The people directory and the conversation picker list everyone by design (issue 13):
# there the members' usernames are no secret of the room; its name, slug, topic and messages still are.
PEOPLE_SHOWN = {"vaultkeeper", "safecracker"}


def leaks(response, *, people_shown=False):
    text = response.content.decode(errors="replace") + (response.get("Location") or "")
    secrets = [secret for secret in SECRETS if not (people_shown and secret in PEOPLE_SHOWN)]
    return [secret for secret in secrets if secret.lower() in text.lower()]


KINDS = ["outsider", "former member", "moderator"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_room_url_answers_exactly_like_a_missing_room(client, settings, vault, kind):
    settings.DEBUG = False  # the production 404 page
    room, message, cracker, _ = vault
    client.force_login(outsider_of(room, kind))
    values = {"pk": message.pk, "message_id": message.pk, "user_id": cracker.pk, "action": "ban"}
    memberships_before = list(Membership.objects.filter(room=room).values())

    private = answers_for(client, room.slug, values)
    missing = answers_for(client, MISSING, values)

    assert len(private) > 20 and private == missing
    # 404, or 405 where the method is wrong (checked first, so it reveals nothing either).
    assert {status for status, *_ in private.values()} == {404, 405}
    assert list(Membership.objects.filter(room=room).values()) == memberships_before
    assert Room.objects.get(pk=room.pk).slow_mode_seconds == 0


def global_values(room, dead_link):
    return {
        "token": dead_link.token,
        "object_id": room.pk,
        "content_type_id": ContentType.objects.get_for_model(Room).pk,
        "id": 1,
        "app_label": "rooms",
        "name": "theme",  # accounts/urls.py: preferences/<name>/
        "uidb36": "1",
        "key": "set-1-key",
        "url": "nowhere/",
        "username": "nobody-by-this-name",  # people/<username>/...
        "pk": Attachment.objects.get(room=room).pk,  # attachments/<pk>/...: the vault's file
    }


# Global pages read with what would find the room if it leaked (its words, not its secrets).
GLOBAL_QUERIES = {"search": ["?q=combination", "?q=heist", "?q=orchid"], "directory": [""]}


@pytest.mark.parametrize("kind", KINDS)
def test_no_global_page_shows_anything_of_the_room(client, settings, vault, kind):
    settings.DEBUG = False
    room, _, _, dead_link = vault
    client.force_login(outsider_of(room, kind))
    answered = {}
    # /healthz: JSON about the process, and it would end this test's transaction (tests/test_health.py).
    for route in project_routes():
        if "slug" in route.parameters or route.name == "healthz":
            continue
        for query in GLOBAL_QUERIES.get(route.name, [""]):
            path = route.path(global_values(room, dead_link)) + query
            answered[path] = leaks(client.get(path), people_shown=path in ("/people/", "/dm/new/"))

    assert len(answered) > 60
    assert {path: found for path, found in answered.items() if found} == {}
    directory = client.get("/").content.decode()
    assert f'data-room="{room.slug}"' not in directory and "data-unread" in directory  # own rooms only
    assert "No messages match" in client.get("/search/?q=combination").content.decode()


def test_members_do_see_it_all(client, vault):
    """The other side of the tests above: the same pages show the room to a member."""
    room, _, cracker, _ = vault
    client.force_login(cracker)
    assert re.search(f'data-room="{room.slug}" data-unread="\\d+"', client.get("/").content.decode())
    assert SECRET_CODE in client.get("/search/?q=combination").content.decode()
    page = client.get(f"/rooms/{room.slug}/").content.decode()
    assert [secret for secret in SECRETS if secret not in page] == []


def test_refusing_an_outsider_costs_four_queries(client, vault, django_assert_max_num_queries):
    room, *_ = vault
    client.force_login(outsider_of(room, "outsider"))
    with django_assert_max_num_queries(4):  # session, user, room, membership
        assert client.get(f"/rooms/{room.slug}/").status_code == 404


# --- sockets -------------------------------------------------------------------------------------


async def frames_within(socket, seconds):
    """Every frame the socket receives in the next `seconds`."""
    frames = []
    deadline = asyncio.get_running_loop().time() + seconds
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        if await socket.receive_nothing(timeout=min(left, 0.1)):
            continue
        frames.append(await socket.receive_from())
    return frames


@live
async def test_an_open_socket_elsewhere_hears_nothing_of_the_room():
    """Messages, edits, typing, presence and new members of the room reach its
    members' sockets in other rooms (badges) but never an outsider's."""
    room, message, cracker, _ = await sync_to_async(create_vault)()
    lobby = await sync_to_async(RoomFactory)(name="Lobby")
    outsider = await sync_to_async(outsider_of)(room, "former member")
    await sync_to_async(MembershipFactory)(room=lobby, user=outsider)
    insider = await sync_to_async(MembershipFactory)(room=lobby)
    await sync_to_async(MembershipFactory)(room=room, user=insider.user)
    insider_socket = await joined_socket(lobby, insider.user)
    outsider_socket = await joined_socket(lobby, outsider)
    await frames_within(insider_socket, 0.3)

    keeper = await sync_to_async(lambda: message.author)()
    keeper_socket = await open_socket(room.slug, keeper)  # presence in the room
    cracker_socket = await open_socket(room.slug, cracker)
    await cracker_socket.send_json_to({"action": "typing"})
    await receive_until(keeper_socket, "is typing", timeout=10)
    await sync_to_async(message_post)(room=room, author=keeper, body=f"{SECRET_CODE} again")
    await sync_to_async(message_edit)(room=room, user=keeper, message_id=message.pk, body=f"{SECRET_CODE}!")
    newcomer = await sync_to_async(UserFactory)()
    await sync_to_async(room_invite)(room=room, invited_by=keeper, username=newcomer.username)

    # The insider's badge: the room did speak, to its members.
    await receive_until(insider_socket, f'data-room="{room.slug}"', timeout=10)
    heard = await frames_within(outsider_socket, 0.5)
    assert [frame for frame in heard if any(secret in frame for secret in SECRETS)] == []
    for socket in (insider_socket, outsider_socket, cracker_socket, keeper_socket):
        await socket.disconnect()


@pytest.mark.parametrize("kind", ["outsider", "moderator"])
def test_every_url_of_a_direct_conversation_answers_like_a_missing_room(db, client, settings, kind):
    """The same walk for a conversation between two people: a third person gets what a
    missing room gives, on every room URL."""
    settings.DEBUG = False
    keeper, cracker = UserFactory(username="vaultkeeper"), UserFactory(username="safecracker")
    conversation = direct_conversation_open(user=keeper, others=[cracker])
    message = message_post(room=conversation, author=keeper, body=f"psst: {SECRET_CODE}")
    client.force_login(outsider_of(conversation, kind))
    values = {"pk": message.pk, "message_id": message.pk, "user_id": cracker.pk, "action": "ban"}

    private = answers_for(client, conversation.slug, values)
    missing = answers_for(client, MISSING, values)

    assert len(private) > 20 and private == missing
    assert {status for status, *_ in private.values()} == {404, 405}
    assert conversation.memberships.count() == 2
