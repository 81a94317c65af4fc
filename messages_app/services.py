"""Write-side rules for messages. The consumer, the HTTP views, the admin, the
management command and the shell all post, edit and delete through these."""

import logging
import math
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Subquery
from django.utils import timezone

from accounts.models import Block
from config.stored_files import stored_file_delete
from messages_app.broadcast import (
    message_broadcast,
    message_update_broadcast,
    pins_broadcast,
    reactions_broadcast,
    user_read_broadcast,
)
from messages_app.models import LinkPreview, Message, ModerationAction, Reaction, Report
from messages_app.moderation import ModerationRefused, member_ban, moderator_membership, record_action
from messages_app.parts import (
    parts_discard,
    parts_known_empty,
    parts_prepare,
    parts_save,
    parts_text,
    parts_text_saved,
)
from messages_app.previews import first_link
from messages_app.ratelimit import send_wait_seconds
from messages_app.reactions import EmojiRefused, emoji_clean
from messages_app.selectors import message_runs
from messages_app.signals import message_deleted, message_edited, message_posted, message_signal_send
from messages_app.text import (
    ROOM_MENTION,
    ROOM_MENTIONS,
    mention_candidates,
    render_message_html,
    without_control_characters,
)
from rooms.models import Membership

logger = logging.getLogger(__name__)

Action, Source = ModerationAction.Action, ModerationAction.Source


class MessageRejected(Exception):
    """The rules refused a message action; its text is shown to the user."""


class MessageInvalid(MessageRejected):
    """What was sent is no message: not text, or empty."""


class MessageTooLong(MessageRejected):
    """The text is over CHAT_MESSAGE_MAX_LENGTH."""


class MessageNotFound(MessageRejected):
    """The message named is not in the room, or was deleted."""


class MessageRateLimited(MessageRejected):
    """Too fast (CHAT_RATE_LIMIT, slow mode): `retry_after` seconds until the next try.
    Subclasses let the API answer 404, 413, 422 or 429 without reading the text."""

    def __init__(self, text, *, retry_after):
        super().__init__(text)
        self.retry_after = retry_after


def parse_rate_limit(value):
    """`"<count>/<seconds>"` -> (count, seconds); `"0"` (or empty) -> None: no limit."""
    value = (value or "").strip()
    if value in {"", "0"}:
        return None
    count, _, seconds = value.partition("/")
    count, seconds = int(count), int(seconds)
    return (count, seconds) if count > 0 and seconds > 0 else None


def _active_membership(*, room, user):
    """The user's membership, or MessageRejected saying why they may not act."""
    # The room read afresh with the membership: a socket holds its room from connect
    # time, and an archive since then must still stop its posts.
    return _still_active(Membership.objects.filter(room=room, user=user).select_related("room").first())


def _still_active(membership):
    """The membership if its user may act in its room, else MessageRejected saying why."""
    if membership is None:
        raise MessageRejected("Join the room to post in it.")
    if membership.is_banned:
        raise MessageRejected("You are banned from this room.")
    return membership


def _check_not_archived(membership):
    if membership.room.is_archived:
        raise MessageRejected("This room is archived: it is read-only.")


def _check_not_blocked(membership):
    """In a direct conversation, a block between the author and one of its people stops
    the author's messages (either way round). Shared rooms are not affected: there the
    blocker's pages fold the blocked person's messages away (ui.js)."""
    room = membership.room
    if not room.is_direct:
        return
    others = Membership.objects.filter(room=room).exclude(user_id=membership.user_id).values("user_id")
    blocks = Block.objects.filter(
        Q(blocker_id=membership.user_id, blocked_id__in=others)
        | Q(blocked_id=membership.user_id, blocker_id__in=others)
    )
    if blocks.exists():
        raise MessageRejected("You cannot message this person: one of you has blocked the other.")


def _check_not_muted(membership):
    if membership.is_muted():
        until = timezone.localtime(membership.muted_until).strftime("%Y-%m-%d %H:%M %Z")
        raise MessageRejected(f"You are muted until {until}.")


def _clean_body(body, *, may_be_empty=False):
    if not isinstance(body, str):
        raise MessageInvalid("A message must be text.")
    body = without_control_characters(body).strip()
    if not body and not may_be_empty:
        raise MessageInvalid("Write something before sending.")
    limit = settings.CHAT_MESSAGE_MAX_LENGTH
    if len(body) > limit:
        raise MessageTooLong(f"A message can be at most {limit:,} characters (this one has {len(body):,}).")
    return body


def _rate_limit_wait(*, key, user):
    """(seconds to wait, (count, seconds)) under CHAT_RATE_LIMIT for one user and key,
    counted across server processes (ratelimit.py); (0, None) with no limit."""
    limit = parse_rate_limit(settings.CHAT_RATE_LIMIT)
    if limit is None:
        return 0, None
    count, seconds = limit
    return send_wait_seconds(room_id=key, user_id=user.pk, count=count, seconds=seconds), limit


def _check_rate_limit(*, room, author):
    """CHAT_RATE_LIMIT per user per room."""
    wait, limit = _rate_limit_wait(key=room.pk, user=author)
    if wait:
        count, seconds = limit
        raise MessageRateLimited(
            f"Slow down: you are sending messages too fast (at most {count} every {seconds} seconds). "
            f"Your message is still here; send it again in {wait} second{'s' if wait != 1 else ''}.",
            retry_after=wait,
        )


def _check_slow_mode(membership):
    """Slow mode: one message per N seconds per member; owners and moderators are exempt.
    Read from the membership's fresh room: a socket's room is as old as the socket."""
    room = membership.room
    seconds = room.slow_mode_seconds
    if not seconds or membership.can_moderate:
        return
    now = timezone.now()
    recent = Message.objects.filter(
        author=membership.user_id, room=room, created_at__gte=now - timedelta(seconds=seconds)
    )
    last = recent.order_by("-created_at").values_list("created_at", flat=True).first()
    if last is not None:
        wait = math.ceil(seconds - (now - last).total_seconds())
        raise MessageRateLimited(
            f"Slow mode is on: one message every {seconds} seconds. Try again shortly.",
            retry_after=max(1, wait),
        )


def _room_members(*, room, usernames=None):
    """{username: (user id, display name)} of the room's members who are not banned
    (of `usernames` if given)."""
    members = Membership.objects.filter(room=room, banned_at__isnull=True)
    if usernames is not None:
        members = members.filter(user__username__in=usernames)
    rows = members.values_list("user__username", "user_id", "user__display_name")
    return {username: (user_id, display_name) for username, user_id, display_name in rows}


def _render(message, *, room, members=None, may_mention_room=False):
    """Render the body and return the ids it mentions; `members` (from _room_members)
    saves the query when many messages of one room are rendered. The stored HTML says
    @username; `mention_names` lets this message's fragment show display names now
    (text.mention_names_applied; fragments.py finds them for messages read back).
    With `may_mention_room` (owners and moderators), @here mentions every member."""
    candidates = mention_candidates(message.body)
    room_words = candidates & ROOM_MENTIONS if may_mention_room and not room.is_direct else set()
    if members is None and candidates:
        members = _room_members(room=room, usernames=None if room_words else candidates)
    members = members or {}
    found = {name: members[name] for name in candidates if name in members}
    mentionable = {name: user_id for name, (user_id, _) in found.items()}
    message.body_html = render_message_html(
        message.body, mentionable={**mentionable, **dict.fromkeys(room_words, ROOM_MENTION)}
    )
    message.mention_names = {user_id: display_name or name for name, (user_id, display_name) in found.items()}
    mentioned = {user_id for user_id, _ in members.values()} if room_words else set(mentionable.values())
    return sorted(mentioned - {message.author_id})


def _not_blocking(mentioned_ids, *, author):
    """The mentioned people who have not blocked the author: someone they blocked
    can still write their name, but it raises no badge or notice for them. One
    query, and only for a message that mentions anyone."""
    if not mentioned_ids:
        return mentioned_ids
    blockers = set(
        Block.objects.filter(blocked=author, blocker_id__in=mentioned_ids).values_list(
            "blocker_id", flat=True
        )
    )
    return [user_id for user_id in mentioned_ids if user_id not in blockers]


def message_post(*, room, author, body, client_id=None, files=None, reply_to=None, bot_as=None):
    """Save a member's message and announce it to the room once it is committed.

    `client_id` (a UUID chosen by the sender's page) makes a retried send return
    the message it already created instead of posting it twice. `files` (uploaded
    files) go to the parts that apps above add to messages (parts.py): a message
    with files may have no text. `reply_to` (a message id) makes it a reply to a
    message of the same room. `bot_as` (a bot's `(name, icon URL)`, either may be None)
    is stored on the message, shown beside the bot badge."""
    body = _clean_body(body, may_be_empty=bool(files))
    membership = _membership_for_post(room=room, author=author, client_id=client_id)
    if client_id and (membership is None or membership.sent_before_id):
        existing = _message_sent_before(room=room, author=author, client_id=client_id)
        if existing is not None:
            return existing
    membership = _still_active(membership)
    _check_not_archived(membership)
    _check_not_blocked(membership)
    _check_not_muted(membership)
    _check_slow_mode(membership)
    _check_rate_limit(room=room, author=author)
    original = _message_in_room(room=room, message_id=reply_to) if reply_to is not None else None
    prepared = parts_prepare(files, room=room, author=author) if files else []
    if not body and not prepared:
        raise MessageInvalid("Write something before sending.")
    try:
        message = _save_new_message(
            room=room,
            author=author,
            body=body,
            client_id=client_id,
            parts=prepared,
            may_mention_room=membership.can_moderate,
            reply_to=original,
            bot_as=bot_as,
        )
    except IntegrityError:  # the same send, retried concurrently, won the race
        parts_discard(prepared)
        return _message_sent_before(room=room, author=author, client_id=client_id)
    except BaseException:
        parts_discard(prepared)
        raise
    logger.debug("message posted room=%s user=%s id=%s", room.slug, author.username, message.pk)
    return message


@transaction.atomic
def _save_new_message(
    *, room, author, body, client_id, parts=(), may_mention_room=False, reply_to=None, bot_as=None
):
    bot_name, bot_icon_url = bot_as or (None, None)
    bot_name, bot_icon_url = bot_name or "", bot_icon_url or ""
    message = Message(
        room=room,
        author=author,
        body=body,
        client_id=client_id,
        parts_text=parts_text(parts),
        reply_to=reply_to,
        bot_name=bot_name,
        bot_icon_url=bot_icon_url,
    )
    mentioned = _render(message, room=room, may_mention_room=may_mention_room)
    mentioned_ids = _not_blocking(mentioned, author=author)
    message.save()
    if mentioned_ids:  # a new message has none yet: no query to find that out
        message.mentions.add(*mentioned_ids)
    if parts:
        parts_save(parts, message=message)
    else:
        parts_known_empty(message)
    message.reaction_groups = []  # a new message has none: its fragment needs no query
    # Pages compare this with the newest message they show: a mismatch means a
    # missed frame, and they catch up.
    earlier = Message.objects.filter(room=room, id__lt=message.pk).order_by("-id")
    previous = earlier.only("author_id", "created_at").first()
    message.prev_id = previous.pk if previous else None
    message_runs([message], previous=previous)
    # Announce only what was committed: a rollback must not leave a ghost on screens.
    transaction.on_commit(lambda: _announce_posted(message, mentioned_ids=mentioned_ids))
    if reply_to is not None:  # after the reply itself, pages hear that its original has one more
        _replies_counted(reply_to, change=1)
    return message


def message_import(*, room, messages, files=None):
    """Save a room's history written elsewhere (the demo data, a Slack export): unsaved
    Messages with author, body and times, oldest first. Each is cleaned, rendered and has
    its mentions recorded as message_post does, in a few queries for any number. Not
    announced, rate limited or checked against membership: history is not live traffic.

    A message's `reply_to` may be an earlier one of `messages` or a saved message of the
    room; the originals' reply counts follow. `files` ({position in messages: [files]})
    go to the parts as message_post's do, without the upload rate (they are history)."""
    prepared = {}
    try:
        with transaction.atomic():
            for position, uploads in (files or {}).items():
                author = messages[position].author
                prepared[position] = parts_prepare(uploads, room=room, author=author, imported=True)
            return _import_saved(room=room, messages=messages, prepared=prepared)
    except BaseException:
        for parts in prepared.values():
            parts_discard(parts)
        raise


def _import_saved(*, room, messages, prepared):
    members = _room_members(room=room)
    mentioned, (pairs, to_saved) = [], _import_originals(room=room, messages=messages)
    for position, message in enumerate(messages):
        parts = prepared.get(position, [])
        message.room = room
        message.body = _clean_body(message.body, may_be_empty=bool(parts))
        message.parts_text = parts_text(parts)
        mentioned.append(_render(message, room=room, members=members))
    created = Message.objects.bulk_create(messages)
    Mention = Message.mentions.through
    Mention.objects.bulk_create(
        Mention(message_id=message.pk, user_id=user_id)
        for message, user_ids in zip(created, mentioned, strict=True)
        for user_id in user_ids
    )
    for position, parts in prepared.items():
        parts_save(parts, message=created[position])
    if pairs or to_saved:
        _import_replies(pairs, to_saved)
    return created


def _import_originals(*, room, messages):
    """([(reply, original)] of originals among `messages`, Counter of replies to originals
    saved before). A reply to one of `messages` has its reply_to taken off until that is
    saved (bulk_create refuses unsaved relations), and its original counts it already."""
    pairs, to_saved = [], Counter()
    for message in messages:
        original = message.reply_to
        if original is None:
            continue
        if original.pk is None:
            message.reply_to = None
            original.reply_count += 1
            pairs.append((message, original))
        elif original.room_id != room.pk:
            raise MessageRejected("A reply must be in the room of the message it answers.")
        else:
            to_saved[original.pk] += 1
    return pairs, to_saved


def _import_replies(pairs, to_saved):
    """The replies point at their saved originals; originals saved before count them."""
    for reply, original in pairs:
        reply.reply_to = original
    # Small batches: each is a CASE over its rows, for each of its rows.
    Message.objects.bulk_update([reply for reply, _ in pairs], ["reply_to"], batch_size=200)
    now = timezone.now()
    for original_id, count in to_saved.items():
        Message.objects.filter(pk=original_id).update(reply_count=F("reply_count") + count, changed_at=now)


def _announce_posted(message, *, mentioned_ids):
    """After commit: to the open pages, then to the apps above (messages_app.signals)."""
    message_broadcast(message, mentioned_ids=mentioned_ids)
    message_signal_send(message_posted, message, mentioned_ids=mentioned_ids)


def _announce_changed(message, *, signal):
    message_update_broadcast(message)
    message_signal_send(signal, message)


def _membership_for_post(*, room, author, client_id):
    """The author's membership with its room read afresh, and in the same query (one
    round trip fewer per message) `sent_before_id`: the message an earlier attempt of
    this send created, if any. None when the author is no member."""
    memberships = Membership.objects.filter(room=room, user=author).select_related("room")
    if client_id:
        sent_before = Message.objects.filter(client_id=client_id).values("id")[:1]
        memberships = memberships.annotate(sent_before_id=Subquery(sent_before))
    return memberships.first()


def _message_sent_before(*, room, author, client_id):
    """The message an earlier attempt of this send created, announced again (the
    sender may have missed it), or None. A client id is never shared."""
    existing = Message.objects.select_related("room", "author").filter(client_id=client_id).first()
    if existing is None:
        return None
    if existing.author_id != author.pk or existing.room_id != room.pk:
        raise MessageRejected("That message id is already used. Reload the page and try again.")
    transaction.on_commit(lambda: message_broadcast(existing))
    return existing


def _message_in_room(*, room, message_id):
    message = Message.objects.select_related("author", "room").filter(room=room, pk=message_id).first()
    if message is None:
        raise MessageNotFound("That message does not exist in this room.")
    if message.is_deleted:
        raise MessageNotFound("That message was deleted.")
    return message


def message_edit(*, room, user, message_id, body):
    """Change the text of one's own message; every open page replaces it in place."""
    body = _clean_body(body)
    membership = _active_membership(room=room, user=user)
    _check_not_archived(membership)
    _check_not_muted(membership)
    message = _message_in_room(room=room, message_id=message_id)
    if message.author_id != user.pk:
        raise MessageRejected("You can only edit your own messages.")
    with transaction.atomic():
        message.body = body
        mentioned = _render(message, room=room, may_mention_room=membership.can_moderate)
        mentioned_ids = _not_blocking(mentioned, author=user)
        message.edited_at = message.changed_at = timezone.now()
        message.save(update_fields=["body", "body_html", "edited_at", "changed_at"])
        message.mentions.set(mentioned_ids)
        transaction.on_commit(lambda: _announce_changed(message, signal=message_edited))
    logger.info("message edited room=%s user=%s id=%s", room.slug, user.username, message.pk)
    return message


def message_delete(*, room, user, message_id, source=Source.PAGE, reason=""):
    """Delete one's own message, or any message as the room's owner or moderator
    (page) or as staff (admin); a moderator's deletion goes into the audit trail.
    The row stays, marked deleted, so it can be reviewed and restored."""
    message = _message_in_room(room=room, message_id=message_id)
    if message.author_id == user.pk and source == Source.PAGE:
        _active_membership(room=room, user=user)
        return _mark_deleted(message, by=user)
    try:
        moderator_membership(room=room, actor=user, source=source)
    except ModerationRefused:
        raise MessageRejected("You can only delete your own messages.") from None
    with transaction.atomic():
        _mark_deleted(message, by=user)
        record_action(
            actor=user,
            action=Action.DELETE,
            room=room,
            source=source,
            target_user=message.author,
            message=message,
            reason=reason,
        )
    return message


def message_refresh(message):
    """Something a message shows besides its text changed (a part: apps above remove
    one of its files): every page, and the history caches, show it anew, and search
    finds it by what it holds now."""
    message.changed_at = timezone.now()
    message.parts_text = parts_text_saved(message)
    message.save(update_fields=["changed_at", "parts_text"])
    transaction.on_commit(lambda: message_update_broadcast(message))


def _replies_counted(original, *, change):
    """A reply to `original` was posted (+1), deleted (-1) or restored (+1): its
    "N replies" changes on every page (after commit) and in the history caches."""
    now = timezone.now()
    Message.objects.filter(pk=original.pk).update(reply_count=F("reply_count") + change, changed_at=now)
    original.refresh_from_db(fields=["reply_count", "changed_at"])
    transaction.on_commit(lambda: message_update_broadcast(original))


def _original_of(reply):
    return Message.objects.select_related("author", "room").filter(pk=reply.reply_to_id).first()


def _mark_deleted(message, *, by):
    with transaction.atomic():
        message.deleted_at = message.changed_at = timezone.now()
        message.deleted_by = by
        was_pinned, message.pinned_at, message.pinned_by = message.pinned_at is not None, None, None
        message.save(update_fields=["deleted_at", "deleted_by", "changed_at", "pinned_at", "pinned_by"])
        if was_pinned:  # a deleted message leaves the pins panel (a restore does not pin it again)
            transaction.on_commit(lambda: pins_broadcast(message.room))
        if message.reply_to_id and (original := _original_of(message)):
            _replies_counted(original, change=-1)
        transaction.on_commit(lambda: _announce_changed(message, signal=message_deleted))
    logger.info("message deleted room=%s user=%s id=%s", message.room.slug, by.username, message.pk)
    return message


def message_restore(*, message, actor, source=Source.ADMIN, reason=""):
    """Undo a deletion (staff, or the room's moderators): the message reappears on every page."""
    try:
        moderator_membership(room=message.room, actor=actor, source=source)
    except ModerationRefused as refusal:
        raise MessageRejected(str(refusal)) from None
    if not message.is_deleted:
        return message
    with transaction.atomic():
        message.deleted_at, message.deleted_by, message.changed_at = None, None, timezone.now()
        message.save(update_fields=["deleted_at", "deleted_by", "changed_at"])
        if message.reply_to_id and (original := _original_of(message)):
            _replies_counted(original, change=1)
        record_action(
            actor=actor,
            action=Action.RESTORE,
            room=message.room,
            source=source,
            target_user=message.author,
            message=message,
            reason=reason,
        )
        transaction.on_commit(lambda: message_update_broadcast(message))
    return message


def message_pin_toggle(*, room, user, message_id):
    """Pin a message of the room, or unpin it: for its owners and moderators. Every
    page's pins panel and the message itself change (after commit)."""
    membership = _active_membership(room=room, user=user)
    if not membership.can_moderate:
        raise MessageRejected("Only the room's owners and moderators pin messages.")
    message = _message_in_room(room=room, message_id=message_id)
    with transaction.atomic():
        pinned = message.pinned_at is None
        message.pinned_at, message.pinned_by = (timezone.now(), user) if pinned else (None, None)
        message.changed_at = timezone.now()
        message.save(update_fields=["pinned_at", "pinned_by", "changed_at"])
        transaction.on_commit(lambda: _announce_pins_changed(message))
    logger.info(
        "message %s room=%s user=%s id=%s",
        "pinned" if pinned else "unpinned",
        room.slug,
        user.username,
        message.pk,
    )
    return message


def _announce_pins_changed(message):
    message_update_broadcast(message)
    pins_broadcast(message.room)


def report_create(*, room, reporter, message_id, reason):
    """A member reports a message to staff; reporting it again while open changes nothing."""
    _active_membership(room=room, user=reporter)
    message = _message_in_room(room=room, message_id=message_id)
    reason = without_control_characters(reason or "").strip()
    if not reason:
        raise MessageRejected("Say briefly what is wrong with this message.")
    report, _ = Report.objects.get_or_create(
        message=message, reporter=reporter, resolved_at__isnull=True, defaults={"reason": reason[:500]}
    )
    logger.info("message reported room=%s user=%s id=%s", room.slug, reporter.username, message.pk)
    return report


@transaction.atomic
def report_resolve(*, report, actor, resolution, source=Source.ADMIN):
    """Close a report by deleting the message, banning its author, or dismissing it."""
    message, room = report.message, report.message.room
    reason = f"report #{report.pk}: {report.reason}"
    if resolution == Report.Resolution.DELETED and not message.is_deleted:
        message_delete(room=room, user=actor, message_id=message.pk, source=source, reason=reason)
    elif resolution == Report.Resolution.BANNED and message.author is not None:
        member_ban(room=room, user=message.author, actor=actor, source=source, reason=reason)
    elif resolution == Report.Resolution.DISMISSED:
        moderator_membership(room=room, actor=actor, source=source)
        record_action(
            actor=actor,
            action=Action.DISMISS_REPORT,
            room=room,
            source=source,
            message=message,
            reason=reason,
        )
    report.resolved_at, report.resolved_by, report.resolution = timezone.now(), actor, resolution
    report.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return report


def membership_mark_read(*, room, user, message_id):
    """Mark the room read up to a message (never backwards, never past the room's
    real messages), and clear its badge in every tab of the user. Returns the id
    now marked read, or None when nothing changed."""
    newest = (
        Message.objects.filter(room=room, id__lte=message_id).order_by("-id").values_list("id", flat=True)
    )
    read_id = newest.first()
    if read_id is None:
        return None
    updated = (
        Membership.objects.filter(room=room, user=user, banned_at__isnull=True)
        .filter(Q(last_read_message_id__isnull=True) | Q(last_read_message_id__lt=read_id))
        .update(last_read_message_id=read_id)
    )
    if not updated:
        return None
    transaction.on_commit(lambda: user_read_broadcast(user_id=user.pk, room_id=room.pk, message_id=read_id))
    return read_id


# --- reactions -------------------------------------------------------------------------

# Distinct emoji on one message: past this, a new one is refused (existing ones still toggle).
REACTIONS_MAX_DISTINCT = 20


def reaction_toggle(*, room, user, message_id, emoji):
    """Add the user's `emoji` to a message of the room, or take it away if it is there.
    Members who may post may react; a muted member may take reactions away but not add
    any (a reaction is something said in the room). Bumps the message's changed_at, so
    catch-up and the history cache see it, and on commit sends every page the message's
    reactions bar, rendered once. Returns True when the reaction is now on."""
    try:
        emoji = emoji_clean(emoji)
    except EmojiRefused as refusal:
        raise MessageInvalid(str(refusal)) from None
    membership = _active_membership(room=room, user=user)
    _check_not_archived(membership)
    _check_not_blocked(membership)
    _check_reaction_rate(room=room, user=user)
    with transaction.atomic():
        # The message row locked: toggles of one message take turns, so a double click
        # lands as on-then-off and the distinct-emoji cap cannot be raced past.
        message = _message_in_room(room=room, message_id=message_id)
        locked = Message.objects.select_for_update().filter(pk=message.pk)
        if locked.values_list("deleted_at", flat=True).get() is not None:  # deleted meanwhile
            raise MessageRejected("That message was deleted.")
        mine = Reaction.objects.filter(message=message, user=user, emoji=emoji)
        added = not mine.delete()[0]
        if added:
            _check_not_muted(membership)
            _check_reaction_room(message, emoji=emoji)
            Reaction.objects.create(message=message, user=user, emoji=emoji)
        message.changed_at = timezone.now()
        message.save(update_fields=["changed_at"])
        transaction.on_commit(lambda: reactions_broadcast(message))
    logger.info(
        "reaction %s room=%s user=%s id=%s",
        "added" if added else "removed",
        room.slug,
        user.username,
        message.pk,
    )
    return added


def _check_reaction_rate(*, room, user):
    """CHAT_RATE_LIMIT again, counted apart from messages (its own key): each toggle is a
    frame to every page of the room, so clicking away on chips must not flood them."""
    wait, _ = _rate_limit_wait(key=f"{room.pk}:reactions", user=user)
    if wait:
        raise MessageRateLimited(
            f"Slow down: you are reacting too fast. Try again in {wait} s.", retry_after=wait
        )


def _check_reaction_room(message, *, emoji):
    emojis = set(Reaction.objects.filter(message=message).values_list("emoji", flat=True))
    if emoji not in emojis and len(emojis) >= REACTIONS_MAX_DISTINCT:
        raise MessageRejected(
            f"A message can have at most {REACTIONS_MAX_DISTINCT} different reactions: add one of those."
        )


def reaction_import(*, reactions):
    """Save the reactions of imported history (unsaved Reactions on messages that
    message_import just saved): one emoji each, once per person, at most
    REACTIONS_MAX_DISTINCT different ones per message, as reaction_toggle allows. Not
    announced or rate limited. Returns how many were saved and how many refused."""
    kept, seen, distinct = [], set(), {}
    for reaction in reactions:
        try:
            reaction.emoji = emoji_clean(reaction.emoji)
        except EmojiRefused:
            continue
        emojis = distinct.setdefault(reaction.message_id, set())
        key = (reaction.message_id, reaction.user_id, reaction.emoji)
        if key in seen or (reaction.emoji not in emojis and len(emojis) >= REACTIONS_MAX_DISTINCT):
            continue
        seen.add(key)
        emojis.add(reaction.emoji)
        kept.append(reaction)
    Reaction.objects.bulk_create(kept, batch_size=1000, ignore_conflicts=True)
    return len(kept), len(reactions) - len(kept)


# --- Link previews (messages_app/previews.py fetches them, messages_app/tasks.py runs that) ---


def link_preview_store(*, message_id, card):
    """Show `card` (a previews.Card) under the message, in place of any card it had:
    stored, the message's changed_at bumped (history caches and catch-up see it) and
    every open page given the message anew, once. Nothing happens when, since the fetch,
    the message was deleted, its first link changed or its author removed the card.
    Returns the LinkPreview or None."""
    image_name = _preview_image_save(card.image, message_id=message_id) if card.image else ""
    try:
        preview = _link_preview_replace(message_id=message_id, card=card, image_name=image_name)
    except BaseException:
        if image_name:
            stored_file_delete(image_name)
        raise
    if preview is None and image_name:
        stored_file_delete(image_name)
    return preview


def _preview_image_save(data, *, message_id):
    field = LinkPreview._meta.get_field("image")
    return default_storage.save(field.generate_filename(None, f"{message_id}.webp"), ContentFile(data))


@transaction.atomic
def _link_preview_replace(*, message_id, card, image_name):
    message = _message_locked(message_id)
    if message is None or message.is_deleted or first_link(message.body_html) != card.url:
        return None
    old = LinkPreview.objects.filter(message=message).first()
    if old is not None and old.removed_at:
        return None
    if old is not None:
        _link_preview_drop(old)
    preview = LinkPreview.objects.create(
        message=message,
        url=card.url,
        title=card.title,
        description=card.description,
        site_name=card.site_name,
        image=image_name,
        image_width=card.image_width if image_name else None,
        image_height=card.image_height if image_name else None,
    )
    message.link_preview = preview
    _preview_changed(message)
    logger.info("link preview stored room=%s id=%s image=%s", message.room.slug, message.pk, bool(image_name))
    return preview


def link_preview_forget(*, message_id):
    """Take away a card that no longer matches its message (the edit took the link away,
    or the new link gives no card); a card its author removed stays, as the record."""
    with transaction.atomic():
        message = _message_locked(message_id)
        preview = LinkPreview.objects.filter(message_id=message_id, removed_at=None).first()
        if message is None or preview is None:
            return False
        _link_preview_drop(preview)
        message.link_preview = None
        _preview_changed(message)
    return True


def link_preview_remove(*, room, user, message_id):
    """The author takes the card off their message, for good (an edit brings no new one)."""
    message = _message_in_room(room=room, message_id=message_id)
    if message.author_id != user.pk:
        raise MessageRejected("Only the author can remove a link preview.")
    with transaction.atomic():
        shown = LinkPreview.objects.filter(message=message, removed_at=None)
        updated = shown.update(removed_at=timezone.now())
        if updated:
            message.link_preview = LinkPreview.objects.get(message=message)
            _preview_changed(message)
    if updated:
        logger.info("link preview removed room=%s id=%s", room.slug, message.pk)
    return message


def _message_locked(message_id):
    """The message, its row locked until the transaction ends (a card stored by the
    worker and one removed by its author do not cross)."""
    messages = Message.objects.select_for_update(of=("self",)).select_related("room", "author")
    return messages.filter(pk=message_id).first()


def _link_preview_drop(preview):
    name = preview.image.name
    preview.delete()
    if name:
        transaction.on_commit(lambda: stored_file_delete(name))


def _preview_changed(message):
    message.changed_at = timezone.now()
    message.save(update_fields=["changed_at"])
    transaction.on_commit(lambda: message_update_broadcast(message))
