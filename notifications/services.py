"""The rules of notifications: levels, who hears of a message, and why."""

import contextlib
import functools
import logging
import zoneinfo
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Block
from notifications.models import Level, Notification, Preferences, PushSubscription, RoomLevel
from rooms.models import Membership

logger = logging.getLogger(__name__)

Reason = Notification.Reason


def preferences_of(user):
    """The person's notification defaults (unsaved, the product's, until they change one)."""
    return Preferences.objects.filter(user=user).first() or Preferences(user=user)


def default_level(*, room, preferences):
    return preferences.direct_level if room.is_direct else preferences.room_level


def room_level_of(*, user, room):
    """The level that applies to the user in the room: their choice, else their
    default, else the product's; one query (the room page asks for it)."""
    chosen = RoomLevel.objects.filter(user=user, room=room).values("level")[:1]
    field = "direct_level" if room.is_direct else "room_level"
    default = Preferences.objects.filter(user=user).values(field)[:1]
    product_default = default_level(room=room, preferences=Preferences())
    level = Coalesce(Subquery(chosen), Subquery(default), Value(product_default))
    return get_user_model().objects.filter(pk=user.pk).values_list(level, flat=True).get()


def room_level_set(*, user, room, level):
    """A member's level for the room (the caller has checked they are one)."""
    level = Level(level)
    RoomLevel.objects.update_or_create(user=user, room=room, defaults={"level": level})
    _room_followers_forget([room.pk])  # now, and once committed (another process may
    transaction.on_commit(lambda: _room_followers_forget([room.pk]))  # have read it before)
    logger.info("notification level set room=%s user=%s level=%s", room.slug, user.username, level)
    return level


def preferences_save(*, user, room_level, direct_level, email_enabled):
    Preferences.objects.update_or_create(
        user=user,
        defaults={"room_level": room_level, "direct_level": direct_level, "email_enabled": email_enabled},
    )
    rooms = list(Membership.objects.filter(user=user).values_list("room_id", flat=True))
    _room_followers_forget(rooms)
    transaction.on_commit(lambda: _room_followers_forget(rooms))
    logger.info("notification preferences saved user=%s", user.username)


QUIET_MORNING_HOUR = 8


def quiet_until(duration, *, user, now=None):
    """When a "do not disturb" chosen now ends: minutes from now, the next 8:00 in
    the person's time zone ("tomorrow"), or a week."""
    now = now or timezone.now()
    if duration == "week":
        return now + timedelta(days=7)
    if duration == "tomorrow":
        zone = zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
        tomorrow = (now.astimezone(zone) + timedelta(days=1)).date()
        return datetime.combine(tomorrow, time(QUIET_MORNING_HOUR), tzinfo=zone)
    return now + timedelta(minutes=int(duration))


def do_not_disturb_set(*, user, until):
    """Silence push and email until `until` (None ends it now)."""
    Preferences.objects.update_or_create(user=user, defaults={"do_not_disturb_until": until})
    logger.info("do not disturb user=%s until=%s", user.username, until.isoformat() if until else "off")


def push_subscription_remove(*, user, subscription_id):
    """Forget one of the person's devices; False when it is not theirs (or gone)."""
    deleted, _ = PushSubscription.objects.filter(user=user, pk=subscription_id).delete()
    return bool(deleted)


def notification_reason(*, level, is_direct, mentioned):
    """Why someone at `level` hears of a message, or None: "nothing" never notifies
    (a mention still raises the room's badge, which messages_app keeps)."""
    if level == Level.NOTHING:
        return None
    if mentioned:
        return Reason.MENTION
    if level == Level.ALL:
        return Reason.DIRECT if is_direct else Reason.MESSAGE
    return None


def message_may_notify(*, message, mentioned_ids):
    """A cheap first look, on the message path: could anyone hear of this message? A
    message that mentions nobody, in a room where nobody follows every message, needs
    no background work at all; who follows a room is cached (FOLLOWERS_TTL)."""
    if mentioned_ids or message.room.is_direct:
        return True
    return any(user_id != message.author_id for user_id in _room_followers(message.room_id))


# Who follows every message of a room is read for each message posted in it, so it is
# kept in the shared cache: a level chosen or a default changed forgets it at once; it
# expires too, so that someone who joins with "all" as their default is heard within
# minutes. Two ids are enough to know whether anyone but the author follows.
FOLLOWERS_TTL = 300


@functools.cache
def _followers_cache():
    """One client of the default cache for the whole process. `django.core.cache.cache`
    is one per async context, that is per socket: on the message path, nearly every
    message would open a new connection to Redis (the fan-out bench showed it)."""
    return caches.create_connection("default")


def _followers_key(room_id):
    return f"notifications:followers:{room_id}"


def _room_followers(room_id):
    key = _followers_key(room_id)
    try:
        cached = _followers_cache().get(key)
    except Exception:  # the cache is down: the database still answers
        cached = None
    if cached is not None:
        return cached
    followers = list(_followers_of_every_message(room_id).values_list("user_id", flat=True)[:2])
    with contextlib.suppress(Exception):  # the cache is down: asked again next time
        _followers_cache().set(key, followers, FOLLOWERS_TTL)
    return followers


def _room_followers_forget(room_ids):
    try:
        _followers_cache().delete_many([_followers_key(room_id) for room_id in room_ids])
    except Exception:  # it expires by itself
        logger.warning("notification followers not forgotten rooms=%s", list(room_ids))


def _followers_of_every_message(room_id):
    chosen = RoomLevel.objects.filter(room_id=room_id, user_id=OuterRef("user_id"))
    all_by_default = Preferences.objects.filter(user_id=OuterRef("user_id"), room_level=Level.ALL)
    members = Membership.objects.filter(room_id=room_id, banned_at__isnull=True)
    return members.filter(Exists(chosen.filter(level=Level.ALL)) | (~Exists(chosen) & Exists(all_by_default)))


def notification_recipients(*, message, mentioned_ids):
    """[(user id, reason)] of the members who should hear of the message: by their
    level, never its author, a banned member, or someone who blocked the author."""
    room = message.room
    members = set(
        Membership.objects.filter(room=room, banned_at__isnull=True)
        .exclude(user_id=message.author_id)
        .values_list("user_id", flat=True)
    )
    chosen = dict(RoomLevel.objects.filter(room=room, user_id__in=members).values_list("user_id", "level"))
    defaults = {p.user_id: p for p in Preferences.objects.filter(user_id__in=members - chosen.keys())}
    blockers = set(
        Block.objects.filter(blocked_id=message.author_id, blocker_id__in=members).values_list(
            "blocker_id", flat=True
        )
    )
    mentioned = set(mentioned_ids)
    recipients = []
    for user_id in sorted(members - blockers):
        level = chosen.get(user_id) or default_level(
            room=room, preferences=defaults.get(user_id) or Preferences()
        )
        reason = notification_reason(level=level, is_direct=room.is_direct, mentioned=user_id in mentioned)
        if reason is not None:
            recipients.append((user_id, reason))
    return recipients


@transaction.atomic
def notifications_create(*, message, mentioned_ids):
    """The message's notifications, once (a task run twice creates nothing more)."""
    recipients = notification_recipients(message=message, mentioned_ids=mentioned_ids)
    notifications = [
        Notification(user_id=user_id, message=message, room=message.room, reason=reason)
        for user_id, reason in recipients
    ]
    Notification.objects.bulk_create(notifications, ignore_conflicts=True)
    created = list(
        Notification.objects.filter(message=message, user_id__in=[user_id for user_id, _ in recipients])
    )
    logger.info("notifications created message=%s count=%d", message.pk, len(created))
    return created
