"""The REST API, /api/v1/ (design.md section 6). Thin: each operation reads its room
the way the pages do and calls the same selectors and services as the page and the
socket, so rules, rate limits, moderation and the live fan-out apply unchanged."""

from django.db.models import Exists, OuterRef
from django.http import Http404
from ninja import NinjaAPI, Query, Status
from ninja.openapi.docs import Swagger

from api import errors
from api.auth import api_auth
from api.schemas import (
    Error,
    Me,
    MembershipOut,
    MessageEdit,
    MessageIn,
    MessageList,
    MessageOut,
    ReactionIn,
    ReactionToggled,
    RoomList,
    SearchPage,
    TokenInfo,
)
from config.params import MAX_ID
from messages_app.search import QUERY_MAX_LENGTH
from messages_app.selectors import (
    PAGE_SIZE,
    message_list_after,
    message_page_before,
    message_page_latest,
    message_search_all,
    reaction_groups_attach,
)
from messages_app.services import (
    MessageNotFound,
    message_delete,
    message_edit,
    message_post,
    reaction_toggle,
)
from rooms.models import Membership
from rooms.selectors import room_access, room_list_readable
from rooms.services import RoomError, room_join, room_leave

api = NinjaAPI(
    title="Chat API",
    version="1",
    description="Rooms, messages and search. Authenticate with `Authorization: Bearer <token>` "
    '(make one at /accounts/tokens/). Errors are JSON `{"detail": ...}`.',
    auth=api_auth,
    urls_namespace="api-1",
    # Swagger UI from ninja's bundled static files (ninja in INSTALLED_APPS), no CDN;
    # no validator badge, which would ask an outside server about our schema.
    docs=Swagger(settings={"validatorUrl": None}),
)
errors.install(api)

# Refusals every operation may answer; each operation adds its own.
REFUSED = {401: Error, 403: Error, 422: Error}
ROOM_REFUSED = {**REFUSED, 400: Error, 404: Error}
WRITE_REFUSED = {**ROOM_REFUSED, 413: Error, 429: Error}
MESSAGES_LIMIT_MAX = 100


def _readable_room(request, slug):
    """The room for the caller, as readable_room_or_404 has it, except that a ban from
    a private room is a 404 too: the API never says 403 about a private room."""
    access = room_access(slug=slug, user=request.auth)
    if access is None or (access.is_banned and access.room.is_private):
        raise Http404(errors.NOT_FOUND)
    if access.is_banned:
        raise errors.MessageRejected("You are banned from this room.")
    return access.room


def _message_out(message):
    author = message.author
    if author is not None:
        author = {"username": author.username, "display_name": author.shown_name}
    return {
        "id": message.pk,
        "room": message.room.slug,
        "author": author,
        "body": "" if message.is_deleted else message.body,
        "created_at": message.created_at,
        "edited_at": message.edited_at,
        "deleted": message.is_deleted,
        "reply_to": message.reply_to_id,
        "reply_count": message.reply_count,
        "reactions": [
            {"emoji": group.emoji, "count": group.count, "names": list(group.names)}
            for group in getattr(message, "reaction_groups", ())
        ],
    }


def _with_room(messages, room):
    for message in messages:
        message.room = room  # one room for the whole page: no query per message
    reaction_groups_attach(messages)  # one query for the page's reactions
    return messages


@api.get("/me", response={200: Me, **REFUSED}, summary="Who the token (or session) belongs to")
def me(request):
    token, user = request.api_token, request.auth
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.shown_name,
        "token": token and TokenInfo(name=token.name, scope=token.scope, prefix=token.prefix),
    }


@api.get("/rooms", response={200: RoomList, **REFUSED}, summary="The rooms I may read: mine and public ones")
def rooms(request):
    mine = Membership.objects.filter(room=OuterRef("pk"), user=request.auth, banned_at__isnull=True)
    readable = room_list_readable(user=request.auth).annotate(is_member=Exists(mine)).order_by("name", "pk")
    return {
        "rooms": [
            {
                "slug": room.slug,
                "name": room.name,
                "topic": room.topic,
                "kind": room.kind,
                "is_private": room.is_private,
                "is_member": room.is_member,
                "is_archived": room.is_archived,
            }
            for room in readable
        ]
    }


@api.get(
    "/rooms/{slug}/messages",
    response={200: MessageList, **ROOM_REFUSED},
    summary="A page of a room's messages, oldest first",
)
def messages(
    request,
    slug: str,
    before: int | None = Query(None, ge=0, le=MAX_ID, description="Messages older than this id"),
    after: int | None = Query(None, ge=0, le=MAX_ID, description="Messages newer than this id"),
    limit: int = Query(PAGE_SIZE, ge=1, le=MESSAGES_LIMIT_MAX),
):
    """Without `before` or `after`: the newest messages. `before` and `after` exclude each other."""
    room = _readable_room(request, slug)
    if before is not None and after is not None:
        return Status(422, {"detail": "Give before or after, not both."})
    if after is not None:
        page, has_more = message_list_after(room=room, after_id=after, limit=limit)
    else:
        found = (
            message_page_latest(room=room, limit=limit)
            if before is None
            else message_page_before(room=room, before_id=before, limit=limit)
        )
        page, has_more = found.messages, found.has_older
    return {"messages": [_message_out(m) for m in _with_room(page, room)], "has_more": has_more}


@api.post(
    "/rooms/{slug}/messages",
    response={201: MessageOut, **WRITE_REFUSED},
    summary="Post a message (as a member), optionally a reply",
)
def message_create(request, slug: str, payload: MessageIn):
    room = _readable_room(request, slug)
    try:
        message = message_post(room=room, author=request.auth, body=payload.body, reply_to=payload.reply_to)
    except MessageNotFound as refusal:  # the message replied to: a field of this request
        return Status(422, {"detail": f"reply_to: {refusal}"})
    return Status(201, _message_out(message))


@api.patch(
    "/rooms/{slug}/messages/{int:message_id}",
    response={200: MessageOut, **WRITE_REFUSED},
    summary="Edit my message",
)
def message_update(request, slug: str, message_id: int, payload: MessageEdit):
    room = _readable_room(request, slug)
    message_id = _message_id(message_id)
    message = message_edit(room=room, user=request.auth, message_id=message_id, body=payload.body)
    return _message_out(message)


@api.delete(
    "/rooms/{slug}/messages/{int:message_id}",
    response={204: None, **WRITE_REFUSED},
    summary="Delete my message (or any, as the room's owner or moderator)",
)
def message_remove(request, slug: str, message_id: int):
    room = _readable_room(request, slug)
    message_delete(room=room, user=request.auth, message_id=_message_id(message_id))
    return Status(204, None)


@api.post(
    "/rooms/{slug}/messages/{int:message_id}/reactions",
    response={200: ReactionToggled, **WRITE_REFUSED},
    summary="Toggle my reaction (one emoji) on a message",
)
def reaction_create(request, slug: str, message_id: int, payload: ReactionIn):
    room = _readable_room(request, slug)
    message_id = _message_id(message_id)
    reacted = reaction_toggle(room=room, user=request.auth, message_id=message_id, emoji=payload.emoji)
    return {"message_id": message_id, "emoji": payload.emoji, "reacted": reacted}


@api.put(
    "/rooms/{slug}/membership", response={200: MembershipOut, **ROOM_REFUSED}, summary="Join a public room"
)
def membership_join(request, slug: str):
    room = _readable_room(request, slug)
    try:
        membership = room_join(room=room, user=request.auth)
    except RoomError as refusal:
        return Status(403, {"detail": str(refusal)})
    return {"room": room.slug, "is_member": True, "role": membership.role}


@api.delete("/rooms/{slug}/membership", response={204: None, **ROOM_REFUSED}, summary="Leave a room")
def membership_leave(request, slug: str):
    room_leave(room=_readable_room(request, slug), user=request.auth)
    return Status(204, None)


def _message_id(message_id):
    """An id past every bigint names no message (and would make Postgres refuse the query)."""
    if not 1 <= message_id <= MAX_ID:
        raise MessageNotFound("That message does not exist in this room.")
    return message_id


@api.get("/search", response={200: SearchPage, **REFUSED}, summary="Search every room I may read")
def search(
    request,
    q: str = Query(..., max_length=QUERY_MAX_LENGTH, description='Words, "a phrase", -excluded, or'),
    before: int | None = Query(None, ge=0, le=MAX_ID, description="next_before of the previous page"),
):
    page = message_search_all(user=request.auth, query=q.replace("\x00", ""), before_id=before)
    return {
        "results": [
            {"message": _message_out(m), "excerpt": "".join(part.text for part in m.excerpt)}
            for m in page.results
        ],
        "next_before": page.next_before,
    }
