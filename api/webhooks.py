"""Incoming webhooks: a room's owners make a secret URL; another tool POSTs Slack's
`{"text": ...}` to it and the text is posted into the room as the hook's bot user.

Everything a hook posts goes through messages_app.services.message_post, so the room's
rules, moderation, the live fan-out and notifications apply as to any member. On top of
CHAT_RATE_LIMIT (per author per room) each hook has WEBHOOK_RATE_LIMIT, counted by the
same cross-process counter (messages_app/ratelimit.py) under a key of its own.

Writes are the `webhook_*` functions that change rows; `webhook_for_token` and
`webhook_list_for_room` only read.
"""

import hashlib
import logging
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from api.models import IncomingWebhook
from messages_app.ratelimit import send_wait_seconds
from messages_app.services import MessageRateLimited, MessageRejected, message_post, parse_rate_limit
from messages_app.text import without_control_characters
from rooms.models import Membership
from rooms.services import room_leave

logger = logging.getLogger(__name__)

NAME_MAX = IncomingWebhook._meta.get_field("name").max_length
USERNAME_MAX = 80  # Message.bot_name
ICON_URL_MAX = 500  # Message.bot_icon_url
_icon_url_valid = URLValidator(schemes=["http", "https"])


class WebhookRefused(Exception):
    """A webhook request refused: `status` and `detail` are what the caller is told."""

    def __init__(self, detail, *, status=400, retry_after=None):
        super().__init__(detail)
        self.detail, self.status, self.retry_after = detail, status, retry_after


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


# --- reads ------------------------------------------------------------------------------


def webhook_for_token(*, token):
    """The live hook whose secret is `token`, with its room and bot, or None."""
    if not isinstance(token, str) or not token:
        return None
    hooks = IncomingWebhook.objects.select_related("room", "bot").filter(revoked_at__isnull=True)
    return hooks.filter(token_hash=token_hash(token)).first()


def webhook_list_for_room(*, room):
    """The room's hooks, newest first, live and revoked: one query."""
    return list(IncomingWebhook.objects.filter(room=room).select_related("created_by"))


# --- writes -----------------------------------------------------------------------------


def _clean_name(name):
    name = without_control_characters(name if isinstance(name, str) else "").strip()
    if not name:
        raise WebhookRefused("Give the webhook a name (it is shown as the bot's name).")
    if len(name) > NAME_MAX:
        raise WebhookRefused(f"A webhook's name can be at most {NAME_MAX} characters.")
    return name


@transaction.atomic
def webhook_create(*, room, created_by, name):
    """Make a hook and its bot (a member of the room who can never log in). Returns
    (hook, token): the token is not stored and cannot be shown again."""
    name = _clean_name(name)
    token = secrets.token_urlsafe(32)
    bot = get_user_model()(
        username=f"bot-{secrets.token_hex(6)}", display_name=name, is_bot=True, is_active=True
    )
    bot.set_unusable_password()
    bot.save()
    Membership.objects.create(room=room, user=bot, role=Membership.Role.MEMBER)
    hook = IncomingWebhook.objects.create(
        room=room, name=name, created_by=created_by, bot=bot, token_hash=token_hash(token)
    )
    logger.info("webhook created room=%s id=%s by=%s", room.slug, hook.pk, created_by.username)
    return hook, token


@transaction.atomic
def webhook_revoke(*, hook, revoked_by=None):
    """Turn the hook's URL off for good. Its bot leaves the room and its account is closed;
    its messages stay, under its name. Revoking twice is a no-op."""
    updated = IncomingWebhook.objects.filter(pk=hook.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated:
        hook.refresh_from_db(fields=["revoked_at"])
        room_leave(room=hook.room, user=hook.bot)
        get_user_model().objects.filter(pk=hook.bot_id).update(is_active=False)
        who = revoked_by.username if revoked_by else "-"
        logger.info("webhook revoked room=%s id=%s by=%s", hook.room_id, hook.pk, who)
    return hook


def webhook_post(*, hook, payload):
    """Post a Slack-shaped payload (`text`, optional `username` and `icon_url`) into the
    hook's room as its bot. Raises WebhookRefused (nothing saved) when it cannot."""
    text, bot_as = _payload_clean(payload)
    _check_hook_rate(hook)
    try:
        message = message_post(room=hook.room, author=hook.bot, body=text, bot_as=bot_as)
    except MessageRateLimited as refusal:
        raise WebhookRefused(str(refusal), status=429, retry_after=refusal.retry_after) from None
    except MessageRejected as refusal:  # archived room, banned or muted bot
        raise WebhookRefused(str(refusal), status=403) from None
    IncomingWebhook.objects.filter(pk=hook.pk).update(last_used=timezone.now())
    return message


def _payload_clean(payload):
    """(text, (username or None, icon URL or None)) from the payload, or WebhookRefused."""
    if not isinstance(payload, dict):
        raise WebhookRefused('The body must be a JSON object such as {"text": "Hello"}.')
    text = payload.get("text")
    if not isinstance(text, str) or not without_control_characters(text).strip():
        raise WebhookRefused('"text" is missing or empty: it must be the message, as a string.')
    limit = settings.CHAT_MESSAGE_MAX_LENGTH
    if len(text.strip()) > limit:
        raise WebhookRefused(f'"text" can be at most {limit:,} characters.')
    return text, (_username_clean(payload.get("username")), _icon_url_clean(payload.get("icon_url")))


def _username_clean(username):
    if username is None:
        return None
    if not isinstance(username, str):
        raise WebhookRefused('"username" must be a string.')
    username = without_control_characters(username).strip()
    if len(username) > USERNAME_MAX:
        raise WebhookRefused(f'"username" can be at most {USERNAME_MAX} characters.')
    return username or None


def _icon_url_clean(icon_url):
    if icon_url is None or icon_url == "":
        return None
    if not isinstance(icon_url, str) or len(icon_url) > ICON_URL_MAX:
        raise WebhookRefused(f'"icon_url" must be an http or https URL of at most {ICON_URL_MAX} characters.')
    try:
        _icon_url_valid(icon_url)
    except ValidationError:
        raise WebhookRefused('"icon_url" must be an http or https URL.') from None
    if urlsplit(icon_url).scheme.lower() not in {"http", "https"}:
        raise WebhookRefused('"icon_url" must be an http or https URL.')
    return icon_url


def _check_hook_rate(hook):
    limit = parse_rate_limit(settings.WEBHOOK_RATE_LIMIT)
    if limit is None:
        return
    count, seconds = limit
    wait = send_wait_seconds(room_id=f"hook-{hook.pk}", user_id=hook.bot_id, count=count, seconds=seconds)
    if wait:
        raise WebhookRefused(
            f"This webhook may post at most {count} messages every {seconds} seconds: retry in {wait} s.",
            status=429,
            retry_after=wait,
        )
