"""The email digest (issue 15 point 4): a mention or direct message still unread
NOTIFY_EMAIL_AFTER seconds after it came is emailed, all of one person's in one mail,
grouped by room. A periodic task of the worker (config/schedule.py) runs the pass.

Each round claims due notifications with SELECT … FOR UPDATE SKIP LOCKED and settles
them in the same transaction, so two workers never mail one twice. Settled means
`emailed_at` is set, whether a mail went out or the notification turned out not to
be mailed (read meanwhile, message deleted, no longer a member, email off, do not
disturb, no usable address): a notification is considered once, never again, so the
pass only ever reads what is new. The log line of each round says how many of each.
"""

import logging
from collections import defaultdict
from datetime import timedelta
from smtplib import SMTPException

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone
from django.utils.text import Truncator

from notifications.emails import absolute_url, addresses_of, notification_email, person_time_zone
from notifications.models import Notification, Preferences
from rooms.models import Membership

logger = logging.getLogger(__name__)

DIGEST_EVERY = timedelta(seconds=60)
# Notifications claimed per transaction: bounds the rows locked and the mails of one round.
CLAIM_LIMIT = 1000
PREVIEW_CHARS = 200
Reason = Notification.Reason


def digest_send(*, now=None):
    """One pass: every due notification settled, mailed where it should be. Returns the
    number of mails sent. A failed send leaves that person's notifications for the next pass."""
    now = now or timezone.now()
    sent = 0
    while True:
        round_sent, claimed_all, failed = _digest_round(now=now)
        sent += round_sent
        if claimed_all or failed:
            return sent


def _due(now):
    since = now - timedelta(seconds=settings.NOTIFY_EMAIL_AFTER)
    return Notification.objects.filter(emailed_at=None, created_at__lte=since).exclude(reason=Reason.MESSAGE)


@transaction.atomic
def _digest_round(*, now):
    """(mails sent, whether nothing more is due, whether a send failed)."""
    claimed = _claim(now)
    if not claimed:
        return 0, True, False
    full = len(claimed) == CLAIM_LIMIT
    if full and claimed[0].user_id != claimed[-1].user_id:
        # One mail per person: the last person's rest may lie beyond the limit, so
        # they wait for the next round, which starts with them.
        last_person = claimed[-1].user_id
        claimed = [n for n in claimed if n.user_id != last_person]
    to_mail = _still_to_mail(claimed, now=now)
    failed = _mail_each(to_mail)
    settled = [n.pk for n in claimed if n.user_id not in failed]
    Notification.objects.filter(pk__in=settled).update(emailed_at=now)
    mailed = sum(len(items) for user_id, (_, items) in to_mail.items() if user_id not in failed)
    logger.info(
        "email digest round claimed=%d mails=%d mailed=%d skipped=%d failed_people=%d",
        len(claimed),
        len(to_mail) - len(failed),
        mailed,
        len(settled) - mailed,
        len(failed),
    )
    return len(to_mail) - len(failed), not full, bool(failed)


def _claim(now):
    return list(
        _due(now)
        .select_related("user", "room", "message__author")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("user_id", "id")[:CLAIM_LIMIT]
    )


def _still_to_mail(claimed, *, now):
    """{user id: [notification]} of those to mail: unread, message not deleted, still a
    member and not banned, email on, not in do not disturb, an address to mail."""
    user_ids = {n.user_id for n in claimed}
    room_ids = {n.room_id for n in claimed}
    read_up_to = {
        (user_id, room_id): last_read
        for user_id, room_id, last_read in Membership.objects.filter(
            user_id__in=user_ids, room_id__in=room_ids, banned_at=None
        ).values_list("user_id", "room_id", "last_read_message_id")
    }
    preferences = {p.user_id: p for p in Preferences.objects.filter(user_id__in=user_ids)}
    addresses = addresses_of(list({n.user_id: n.user for n in claimed}.values()))
    to_mail = defaultdict(list)
    for notification in claimed:
        key = (notification.user_id, notification.room_id)
        wanted = (
            key in read_up_to
            and _unread(notification.message_id, read_up_to[key])
            and notification.message.deleted_at is None
            and _email_wanted(preferences.get(notification.user_id), now=now)
            and notification.user_id in addresses
        )
        if wanted:
            to_mail[notification.user_id].append(notification)
    return {user_id: (addresses[user_id], items) for user_id, items in to_mail.items()}


def _unread(message_id, last_read_message_id):
    return last_read_message_id is None or message_id > last_read_message_id


def _email_wanted(preferences, *, now):
    """No row: the product's defaults (email on, no quiet hours)."""
    return preferences is None or (preferences.email_enabled and not preferences.is_quiet(now))


def _mail_each(to_mail):
    """Send each person's digest over one SMTP connection; the ids of those whose mail
    failed (all of them when the server cannot be reached)."""
    if not to_mail:
        return set()
    connection = get_connection()
    try:
        connection.open()
    except (SMTPException, OSError) as error:
        logger.error("email digest: the SMTP server refused or did not answer: %r", error)
        return set(to_mail)
    failed = set()
    try:
        for user_id, (address, items) in to_mail.items():
            mail = digest_email(address=address, notifications=items)
            mail.connection = connection
            try:
                mail.send()
            except (SMTPException, OSError) as error:
                logger.warning("email digest not sent user=%s: %r", user_id, error)
                failed.add(user_id)
    finally:
        connection.close()
    return failed


def digest_email(*, address, notifications):
    """One person's digest: their notifications grouped by room, oldest first, the
    times in the zone of their profile (templates show times in the active zone)."""
    person = notifications[0].user
    context = {"person": person, "count": len(notifications), "rooms": _by_room(notifications)}
    with timezone.override(person_time_zone(person)):
        return notification_email(
            to=address,
            user_id=person.pk,
            subject=digest_subject(notifications),
            template="digest",
            context=context,
        )


def digest_subject(notifications):
    count = len(notifications)
    reasons = {n.reason for n in notifications}
    if reasons == {Reason.MENTION}:
        what = "mention" if count == 1 else "mentions"
    elif reasons == {Reason.DIRECT}:
        what = "direct message" if count == 1 else "direct messages"
    else:
        what = "mentions and direct messages"
    return f"{count} new {what} in Chat"


def _by_room(notifications):
    rooms = {}
    for notification in sorted(notifications, key=lambda n: (n.room_id, n.message_id)):
        room = notification.room
        if room.pk not in rooms:
            rooms[room.pk] = {"room": room, "url": absolute_url(room.get_absolute_url()), "messages": []}
        rooms[room.pk]["messages"].append(_message_item(notification, room=room))
    return list(rooms.values())


def _message_item(notification, *, room):
    message = notification.message
    return {
        "author": message.author.shown_name if message.author else "A deleted account",
        "created_at": message.created_at,
        "preview": Truncator(" ".join(message.body.split())).chars(PREVIEW_CHARS),
        "reason": notification.get_reason_display(),
        "url": absolute_url(f"{room.get_absolute_url()}?around={message.pk}#message-{message.pk}"),
    }
