"""Write-side rules for messages. The consumer, the HTTP views, the admin, the
management command and the shell all post, edit and delete through these."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from messages_app.broadcast import message_broadcast, message_update_broadcast
from messages_app.models import Message
from messages_app.text import mention_candidates, render_message_html
from rooms.models import Membership

logger = logging.getLogger(__name__)

MODERATING_ROLES = {Membership.Role.OWNER, Membership.Role.MODERATOR}


class MessageRejected(Exception):
    """The rules refused a message action; its text is shown to the user."""


def parse_rate_limit(value):
    """`"<count>/<seconds>"` -> (count, seconds); `"0"` (or empty) -> None: no limit."""
    value = (value or "").strip()
    if value in {"", "0"}:
        return None
    count, _, seconds = value.partition("/")
    return int(count), int(seconds)


def _active_membership(*, room, user):
    """The user's membership, or MessageRejected saying why they may not act."""
    membership = Membership.objects.filter(room=room, user=user).first()
    if membership is None:
        raise MessageRejected("Join the room to post in it.")
    if membership.is_banned:
        raise MessageRejected("You are banned from this room.")
    return membership


def _check_not_muted(membership):
    if membership.is_muted():
        until = timezone.localtime(membership.muted_until).strftime("%Y-%m-%d %H:%M %Z")
        raise MessageRejected(f"You are muted until {until}.")


def _clean_body(body):
    if not isinstance(body, str):
        raise MessageRejected("A message must be text.")
    body = body.strip()
    if not body:
        raise MessageRejected("Write something before sending.")
    limit = settings.CHAT_MESSAGE_MAX_LENGTH
    if len(body) > limit:
        raise MessageRejected(f"A message can be at most {limit:,} characters (this one has {len(body):,}).")
    return body


def _check_rate_limit(*, room, author):
    limit = parse_rate_limit(settings.CHAT_RATE_LIMIT)
    if limit is None:
        return
    count, seconds = limit
    since = timezone.now() - timedelta(seconds=seconds)
    recent = Message.objects.filter(author=author, room=room, created_at__gte=since).count()
    if recent >= count:
        raise MessageRejected("You are sending messages too fast. Wait a few seconds and try again.")


def _mentionable_members(*, room, body):
    """{username: user id} of the members a body mentions (one query, none without an @)."""
    candidates = mention_candidates(body)
    if not candidates:
        return {}
    members = Membership.objects.filter(room=room, user__username__in=candidates, banned_at__isnull=True)
    return dict(members.values_list("user__username", "user_id"))


def _render(message, *, room):
    mentionable = _mentionable_members(room=room, body=message.body)
    message.body_html = render_message_html(message.body, mentionable=mentionable)
    return sorted(set(mentionable.values()) - {message.author_id})


def message_post(*, room, author, body):
    """Save a member's message and announce it to the room once it is committed."""
    body = _clean_body(body)
    _check_not_muted(_active_membership(room=room, user=author))
    _check_rate_limit(room=room, author=author)
    with transaction.atomic():
        message = Message(room=room, author=author, body=body)
        mentioned_ids = _render(message, room=room)
        message.save()
        message.mentions.set(mentioned_ids)
        # Announce only what was committed: a rollback must not leave a ghost on screens.
        transaction.on_commit(lambda: message_broadcast(message, mentioned_ids=mentioned_ids))
    logger.info("message posted room=%s user=%s id=%s", room.slug, author.username, message.pk)
    return message


def _message_in_room(*, room, message_id):
    message = Message.objects.select_related("author", "room").filter(room=room, pk=message_id).first()
    if message is None:
        raise MessageRejected("That message does not exist in this room.")
    if message.is_deleted:
        raise MessageRejected("That message was deleted.")
    return message


def message_edit(*, room, user, message_id, body):
    """Change the text of one's own message; every open page replaces it in place."""
    body = _clean_body(body)
    membership = _active_membership(room=room, user=user)
    _check_not_muted(membership)
    message = _message_in_room(room=room, message_id=message_id)
    if message.author_id != user.pk:
        raise MessageRejected("You can only edit your own messages.")
    with transaction.atomic():
        message.body = body
        mentioned_ids = _render(message, room=room)
        message.edited_at = timezone.now()
        message.save(update_fields=["body", "body_html", "edited_at"])
        message.mentions.set(mentioned_ids)
        transaction.on_commit(lambda: message_update_broadcast(message))
    logger.info("message edited room=%s user=%s id=%s", room.slug, user.username, message.pk)
    return message


def message_delete(*, room, user, message_id):
    """Delete one's own message (or any, for the room's owners and moderators).
    The row stays, marked deleted, so moderators can review it; pages show a placeholder."""
    membership = _active_membership(room=room, user=user)
    message = _message_in_room(room=room, message_id=message_id)
    if message.author_id != user.pk and membership.role not in MODERATING_ROLES:
        raise MessageRejected("You can only delete your own messages.")
    with transaction.atomic():
        message.deleted_at = timezone.now()
        message.deleted_by = user
        message.save(update_fields=["deleted_at", "deleted_by"])
        transaction.on_commit(lambda: message_update_broadcast(message))
    logger.info("message deleted room=%s user=%s id=%s", room.slug, user.username, message.pk)
    return message
