"""What the API reads and answers (its OpenAPI document is made from these)."""

from datetime import datetime

from ninja import Field, Schema

from config.params import MAX_ID


class Error(Schema):
    """Every refusal: 400, 401, 403, 404, 405, 413, 422, 429."""

    detail: str | list[dict]


class TokenInfo(Schema):
    name: str
    scope: str
    prefix: str


class Me(Schema):
    id: int
    username: str
    display_name: str
    # The token the request came with; null for the session.
    token: TokenInfo | None


class RoomOut(Schema):
    slug: str
    name: str
    topic: str
    kind: str
    is_private: bool
    is_member: bool
    is_archived: bool


class RoomList(Schema):
    rooms: list[RoomOut]


class Author(Schema):
    username: str
    display_name: str


class ReactionOut(Schema):
    emoji: str
    count: int
    names: list[str]  # who reacted, as their names are shown, in the order they reacted


class MessageOut(Schema):
    id: int
    room: str  # the room's slug
    author: Author | None  # null once the author's account is gone
    body: str  # "" when deleted
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    reply_to: int | None
    reply_count: int
    reactions: list[ReactionOut] = []  # in the lists of messages (one query a page)


class MessageList(Schema):
    messages: list[MessageOut]  # oldest first
    # More messages beyond this page in the direction asked (older for before, newer for after).
    has_more: bool


class MessageIn(Schema):
    body: str  # over CHAT_MESSAGE_MAX_LENGTH: 413 (message_post checks it, as for the page)
    reply_to: int | None = Field(default=None, ge=1, le=MAX_ID)


class MessageEdit(Schema):
    body: str


class ReactionIn(Schema):
    emoji: str = Field(max_length=64)  # one emoji; the service judges it


class ReactionToggled(Schema):
    message_id: int
    emoji: str
    reacted: bool  # mine is now on (true) or taken away (false)


class MembershipOut(Schema):
    room: str
    is_member: bool
    role: str | None


class SearchResult(Schema):
    message: MessageOut
    excerpt: str


class SearchPage(Schema):
    results: list[SearchResult]  # newest first
    next_before: int | None  # pass as ?before= for the next page
