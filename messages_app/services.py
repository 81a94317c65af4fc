"""Write-side rules for messages. The consumer, the HTTP fallback, the
management command and the shell all post through `message_post`."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from messages_app.broadcast import message_broadcast
from messages_app.models import Message
from rooms.models import Membership

logger = logging.getLogger(__name__)


class MessageRejected(Exception):
    """The rules refused a message; its text is shown to the sender."""


def parse_rate_limit(value):
    """`"<count>/<seconds>"` -> (count, seconds); `"0"` (or empty) -> None: no limit."""
    value = (value or "").strip()
    if value in {"", "0"}:
        return None
    count, _, seconds = value.partition("/")
    return int(count), int(seconds)


def _check_author_may_post(*, room, author):
    membership = Membership.objects.filter(room=room, user=author).first()
    if membership is None:
        raise MessageRejected("Join the room to post in it.")
    if membership.is_banned:
        raise MessageRejected("You are banned from this room.")
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


def message_post(*, room, author, body):
    """Save a message from a member and announce it to the room once it is committed."""
    body = _clean_body(body)
    _check_author_may_post(room=room, author=author)
    _check_rate_limit(room=room, author=author)
    with transaction.atomic():
        message = Message.objects.create(room=room, author=author, body=body)
        # Announce only what was committed: a rollback must not leave a ghost on screens.
        transaction.on_commit(lambda: message_broadcast(message))
    logger.info("message posted room=%s user=%s id=%s", room.slug, author.username, message.pk)
    return message
