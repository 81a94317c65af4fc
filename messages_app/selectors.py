"""Read-side queries for messages. Every history page and every search page is
a keyset scan on id, so its cost does not grow with the room's age."""

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from messages_app import search
from messages_app.models import LinkPreview, Message, ModerationAction, Reaction
from messages_app.parts import parts_prefetch
from messages_app.reactions import reaction_groups
from messages_app.text import without_control_characters
from rooms.models import Membership, Room
from rooms.selectors import direct_others_attach, room_list_readable

PAGE_SIZE = 50
CATCH_UP_LIMIT = 500
AROUND_SIDE = 25
SEARCH_PAGE_SIZE = 20


@dataclass(frozen=True)
class MessagePage:
    """Consecutive messages of a room, oldest first, and whether the room has more
    on either side (the page then shows a sentinel that loads them)."""

    messages: list
    has_older: bool = False
    has_newer: bool = False


# One author's messages within five minutes on one day form a run: its name and avatar show once.
RUN_GAP = timedelta(minutes=5)


def _room_messages(room):
    # A reply shows a quote of its original, and link_preview the card (a message has at
    # most one): joined, not a query per message.
    return Message.objects.filter(room=room).select_related("author", "reply_to__author", "link_preview")


def _day(moment):
    return timezone.localtime(moment).date()


def _continues(message, *, author_id, created_at):
    return (
        message.author_id is not None
        and message.author_id == author_id
        and message.created_at - created_at < RUN_GAP
    )


def message_runs(messages, *, previous=None):
    """Mark each message, given the room's message just before the first: `day_start`
    (it shows its day's separator) and `continued` (it goes on its author's run)."""
    for message in messages:
        message.day_start = previous is None or _day(previous.created_at) != _day(message.created_at)
        message.continued = not message.day_start and _continues(
            message, author_id=previous.author_id, created_at=previous.created_at
        )
        previous = message
    return messages


def message_with_previous(messages):
    """`messages` with `previous_author_id` and `previous_created_at` (the room's
    message just before each), for fragments rendered alone."""
    previous = Message.objects.filter(room=OuterRef("room"), id__lt=OuterRef("id")).order_by("-id")
    return messages.annotate(
        previous_author_id=Subquery(previous.values("author_id")[:1]),
        previous_created_at=Subquery(previous.values("created_at")[:1]),
    )


def message_mention_names(messages):
    """Give each message that mentions people `mention_names` ({user id: name shown}):
    one query for the whole page, none when no message of it mentions anyone."""
    mentioning = {
        m.pk for m in messages if 'class="mention"' in m.body_html and not hasattr(m, "mention_names")
    }
    if not mentioning:
        return
    names = {}
    rows = Message.mentions.through.objects.filter(message_id__in=mentioning).values_list(
        "message_id", "user_id", "user__username", "user__display_name"
    )
    for message_id, user_id, username, display_name in rows:
        names.setdefault(message_id, {})[user_id] = display_name or username
    for message in messages:
        if message.pk in mentioning:
            message.mention_names = names.get(message.pk, {})


def reaction_groups_attach(messages):
    """Give each message `reaction_groups` (reactions.ReactionGroup: emoji, who, how
    many), with the names as shown now: one query for a whole page of messages."""
    messages = [message for message in messages if message.pk is not None]
    if not messages:
        return
    rows = (
        Reaction.objects.filter(message_id__in=[message.pk for message in messages])
        .order_by("id")
        .values_list("message_id", "emoji", "user_id", "user__username", "user__display_name")
    )
    groups = reaction_groups(
        (message_id, emoji, user_id, display_name or username)
        for message_id, emoji, user_id, username, display_name in rows
    )
    for message in messages:
        message.reaction_groups = groups.get(message.pk, [])


def message_run_of(message):
    """Mark one message as message_runs() would, reading the room's message before it."""
    previous = (
        Message.objects.filter(room_id=message.room_id, id__lt=message.pk)
        .order_by("-id")
        .only("author_id", "created_at")
        .first()
    )
    return message_runs([message], previous=previous)[0]


def message_run_alone(message):
    """Mark one message annotated by message_with_previous() as message_runs() would."""
    before = message.previous_created_at
    message.day_start = before is None or _day(before) != _day(message.created_at)
    message.continued = not message.day_start and _continues(
        message, author_id=message.previous_author_id, created_at=before
    )
    return message


def _newest(messages, limit):
    """The newest `limit` of `messages`, oldest first, and whether older ones exist."""
    rows = list(messages.order_by("-id")[: limit + 1])
    previous = rows[limit] if len(rows) > limit else None
    return message_runs(rows[:limit][::-1], previous=previous), len(rows) > limit


def _oldest(messages, limit):
    """The oldest `limit` of `messages`, oldest first, and whether newer ones exist."""
    rows = list(messages.order_by("id")[: limit + 1])
    return rows[:limit], len(rows) > limit


def message_page_latest(*, room, limit=PAGE_SIZE):
    """The newest messages of a room (the room page)."""
    messages, has_older = _newest(_room_messages(room), limit)
    return MessagePage(messages, has_older=has_older)


def message_page_before(*, room, before_id, limit=PAGE_SIZE):
    """The page older than `before_id` (infinite scroll upwards)."""
    messages, has_older = _newest(_room_messages(room).filter(id__lt=before_id), limit)
    return MessagePage(messages, has_older=has_older)


def message_page_around(*, room, message_id, side=AROUND_SIDE):
    """A message of the room with up to `side` messages on each side, or None when
    the room has no such message (whatever other room might)."""
    newer, has_newer = _oldest(_room_messages(room).filter(id__gte=message_id), side + 1)
    if not newer or newer[0].pk != message_id:
        return None
    older, has_older = _newest(_room_messages(room).filter(id__lt=message_id), side)
    message_runs(newer, previous=older[-1] if older else None)
    return MessagePage(older + newer, has_older=has_older, has_newer=has_newer)


def message_list_latest(*, room, limit=PAGE_SIZE):
    """The newest messages of a room, oldest first."""
    return message_page_latest(room=room, limit=limit).messages


def message_list_before(*, room, before_id, limit=PAGE_SIZE):
    """Up to `limit` messages older than `before_id`, oldest first."""
    return message_page_before(room=room, before_id=before_id, limit=limit).messages


def message_list_after(*, room, after_id, limit=CATCH_UP_LIMIT):
    """Messages newer than `after_id`, oldest first, and whether more follow."""
    rows = list(_room_messages(room).filter(id__gte=after_id).order_by("id")[: limit + 2])
    previous = rows.pop(0) if rows and rows[0].pk == after_id else None
    return message_runs(rows[:limit], previous=previous), len(rows) > limit


def message_list_around(*, room, message_id, radius=25):
    """Up to `radius` messages on each side of `message_id` (included), oldest first."""
    older = list(_room_messages(room).filter(id__lt=message_id).order_by("-id")[:radius])
    newer = list(_room_messages(room).filter(id__gte=message_id).order_by("id")[: radius + 1])
    return older[::-1] + newer


PINS_LIMIT = 50
THREAD_LIMIT = 200


def message_list_pinned(*, room, limit=PINS_LIMIT):
    """The room's pinned messages, the latest pin first."""
    pinned = Message.objects.filter(room=room, pinned_at__isnull=False, deleted_at__isnull=True)
    return list(pinned.select_related("author").order_by("-pinned_at")[:limit])


def message_thread(*, room, message_id, limit=THREAD_LIMIT):
    """A message of the room and its first `limit` replies, oldest first (runs
    marked), or None when the room has no such message."""
    original = _room_messages(room).filter(pk=message_id).first()
    if original is None:
        return None
    replies = list(_room_messages(room).filter(reply_to=original).order_by("id")[:limit])
    return message_runs([original, *replies])


@dataclass(frozen=True)
class SearchPage:
    """Matching messages, newest first, each with `.excerpt` (a list of
    search.ExcerptPart); `next_before` asks for the next page, None at the end."""

    results: list
    next_before: int | None = None


def message_search_room(*, user, room, query, before_id=None, limit=SEARCH_PAGE_SIZE):
    """Search one room (which the caller has checked the user may read)."""
    messages = _searchable_messages(user=user, before_id=before_id).filter(room=room)
    return _search(messages, query=query, limit=limit)


def message_search_all(*, user, query, before_id=None, limit=SEARCH_PAGE_SIZE):
    """Search every room the user may read; never a private room they are not
    in, a room they are banned from, or a deleted message."""
    return _search(_searchable_messages(user=user, before_id=before_id), query=query, limit=limit)


def _searchable_messages(*, user, before_id):
    messages = Message.objects.filter(deleted_at__isnull=True, room__in=room_list_readable(user=user))
    if before_id is not None:
        messages = messages.filter(id__lt=before_id)
    # A reply says whom it answers: its original and that author come in the same query.
    return messages.select_related("room", "author", "reply_to__author")


def _search(messages, *, query, limit):
    query = without_control_characters(query)  # a NUL would make Postgres refuse the query
    if not query.strip():
        return SearchPage([])
    if connection.vendor == "postgresql":
        return message_search_full_text(messages=messages, query=query, limit=limit)
    return message_search_plain(messages=messages, query=query, limit=limit)


def message_search_full_text(*, messages, query, limit=SEARCH_PAGE_SIZE):
    """Postgres: websearch syntax against the body's stored, GIN-indexed tsvector,
    with a highlighted excerpt."""
    matches = messages.alias(document=search.search_document()).filter(document=search.search_query(query))
    matches = _newest_first_plan(matches, limit).annotate(headline=search.search_headline(query))
    page = _search_page(matches, limit)
    for message in page.results:
        message.excerpt = search.excerpt_from_headline(message.headline)
    return page


# A word with at most this many matches is "rare": its matches are all fetched through the
# GIN index and only they are sorted.
RARE_WORD_MATCHES = 2000


def _newest_first_plan(matches, limit):
    """Postgres cannot estimate how many messages a word matches, so for "the newest 21
    matches" it walks the messages newest first: fast for a common word, a scan of the
    whole room for a rare one (1.6 s at a million messages). One cheap query through the
    GIN index (no order, so it stops at the cap) tells which of the two this word is."""
    some = list(matches.order_by().values_list("id", flat=True)[: RARE_WORD_MATCHES + 1])
    if len(some) <= RARE_WORD_MATCHES:  # these are all the matches: the newest of them, by id
        return matches.filter(id__in=sorted(some, reverse=True)[: limit + 1])
    return matches


def message_search_plain(*, messages, query, limit=SEARCH_PAGE_SIZE):
    """The SQLite fallback: a case-insensitive substring match, plain excerpt."""
    matches = messages.filter(Q(body__icontains=query) | Q(parts_text__icontains=query))
    page = _search_page(matches, limit)
    for message in page.results:
        message.excerpt = search.plain_excerpt(f"{message.body}\n{message.parts_text}", query)
    return page


def _search_page(matches, limit):
    rows = list(matches.order_by("-id")[: limit + 1])
    results = rows[:limit]
    return SearchPage(results, next_before=results[-1].pk if len(rows) > limit else None)


# Catch-up overlaps the last sync a little: transactions commit in a different order
# than their clocks read, and replacing a message twice is harmless.
CHANGES_OVERLAP = timedelta(seconds=5)


def message_list_changed_since(*, room, since, limit=CATCH_UP_LIMIT):
    """Messages of the room edited, deleted or restored since `since` (a little
    earlier, to be safe), oldest change first."""
    changed = _room_messages(room).filter(changed_at__gte=since - CHANGES_OVERLAP).order_by("changed_at")
    messages = [message_run_alone(message) for message in message_with_previous(changed)[:limit]]
    parts_prefetch(messages)  # rendered one by one (as replacements), not from the cache
    reaction_groups_attach(messages)
    return messages


def link_preview_image_get(*, room, message_id):
    """The shown card (with a picture) of a message of the room that is not deleted, or None."""
    previews = LinkPreview.objects.filter(message__room=room, message__deleted_at=None, removed_at=None)
    return previews.exclude(image="").filter(message_id=message_id).first()


def ban_reason_get(*, room, user):
    """The reason given with the user's latest ban from the room, or ""."""
    bans = ModerationAction.objects.filter(room=room, target_user=user, action=ModerationAction.Action.BAN)
    return bans.order_by("-id").values_list("reason", flat=True).first() or ""


# --- rooms as their reader sees them: the directory and the sidebar's badges ---------

# Counting stops here: a badge shows "999+" rather than scanning years of history.
UNREAD_CAP = 1000


class SubqueryCount(Subquery):
    """COUNT(*) of a (limited) subquery, as a column of the outer query."""

    template = "(SELECT count(*) FROM (%(subquery)s) _counted)"
    output_field = IntegerField()


def _newest_message_time(room_ref):
    """The time of the room's newest message: one step down the (room, id) index."""
    return Subquery(Message.objects.filter(room=room_ref).order_by("-id").values("created_at")[:1])


def room_list_public():
    """Public rooms for the directory (not archived ones): member count and time of the newest message."""
    return Room.objects.filter(is_private=False, archived_at__isnull=True).annotate(
        member_count=Count("memberships", filter=Q(memberships__banned_at__isnull=True)),
        last_activity=_newest_message_time(OuterRef("pk")),
    )


def room_list_discover(*, user):
    """Public rooms the user is not in (nor banned from), busiest first: what the
    home page offers to join. One query, however many rooms."""
    theirs = Membership.objects.filter(room=OuterRef("pk"), user=user)
    return room_list_public().exclude(Exists(theirs)).order_by("-member_count", "name")


def newest_message_id():
    """The id of the newest message of any room, 0 if none (one index lookup)."""
    return Message.objects.order_by("-id").values_list("id", flat=True).first() or 0


def membership_list_for_user(*, user, through_message_id=None):
    """The user's rooms (not banned from), each membership with its room, its
    unread count, how many unread messages mention the user, the time of the
    room's newest message and who invited them (a pending invitation), and for a
    direct conversation its other people (`others`): a list, one or two queries.
    With `through_message_id`, unread counts only messages up to that one."""
    last_read = Coalesce(OuterRef("last_read_message_id"), 0)
    unread = Message.objects.filter(room=OuterRef("room_id"), id__gt=last_read, deleted_at__isnull=True)
    unread_mentions = Message.mentions.through.objects.filter(
        user=user,
        message__room=OuterRef("room_id"),
        message_id__gt=last_read,
        message__deleted_at__isnull=True,
    )
    if through_message_id is not None:
        unread = unread.filter(id__lte=through_message_id)
        unread_mentions = unread_mentions.filter(message_id__lte=through_message_id)
    unread = unread.exclude(author=user).values("id")[:UNREAD_CAP]
    unread_mentions = unread_mentions.values("id")[:UNREAD_CAP]
    memberships = (
        Membership.objects.filter(user=user, banned_at__isnull=True)
        .select_related("room", "invited_by")
        .annotate(
            unread_count=SubqueryCount(unread),
            unread_mentions=SubqueryCount(unread_mentions),
            last_activity=_newest_message_time(OuterRef("room_id")),
        )
        .order_by("room__name")
    )
    # A direct conversation shows its other people: a second query, only if there is one.
    return direct_others_attach(memberships, user=user)
