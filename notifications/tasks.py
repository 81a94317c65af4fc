"""Background work of notifications, run by the worker (`manage.py worker`)."""

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from messages_app.models import Message
from notifications.digest import digest_send
from notifications.emails import invitation_email_send
from notifications.push import Outcome, push_deliver, push_targets
from notifications.services import notifications_create
from rooms.models import Membership

logger = logging.getLogger(__name__)

# Waits before the next try of a push the push service could not take (429, 5xx, no
# answer); after the last, the notification is not pushed (the page and email remain).
PUSH_RETRY_DELAYS = [timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1)]


@task()
def notify_message(message_id, mentioned_ids):
    """Create the notifications of a new message, then push them; how many."""
    message = Message.objects.select_related("room", "author").filter(pk=message_id, deleted_at=None).first()
    if message is None:  # deleted before the worker came to it: nobody needs to hear
        return 0
    notifications = notifications_create(message=message, mentioned_ids=mentioned_ids)
    notifications_push(notifications)
    return len(notifications)


@task()
def email_digest_send():
    """The periodic digest pass (notifications/digest.py); how many mails it sent."""
    return digest_send()


@task()
def invitation_email(membership_id):
    """Email an invitee (notifications/emails.py); whether a mail went out. An invitation
    declined before the worker came to it is not mailed."""
    membership = (
        Membership.objects.select_related("room", "user", "invited_by")
        .filter(pk=membership_id, invitation_pending=True, banned_at=None)
        .first()
    )
    return membership is not None and invitation_email_send(membership=membership)


def notifications_push(notifications):
    """One push_send task per device, so that one slow push service holds up no other."""
    targets = push_targets(notifications)
    for notification, subscription in targets:
        push_send.enqueue(notification.pk, subscription.pk)
    return len(targets)


@task()
def push_send(notification_id, subscription_id, attempt=1):
    """Push one notification to one device; a push service that could not take it is
    tried again later, a few times, each time waiting longer."""
    outcome = push_deliver(notification_id=notification_id, subscription_id=subscription_id)
    if outcome is Outcome.RETRY:
        if attempt > len(PUSH_RETRY_DELAYS):
            logger.warning(
                "push given up notification=%s subscription=%s attempts=%d",
                notification_id,
                subscription_id,
                attempt,
            )
            return Outcome.DROPPED.value
        run_after = timezone.now() + PUSH_RETRY_DELAYS[attempt - 1]
        push_send.using(run_after=run_after).enqueue(notification_id, subscription_id, attempt + 1)
    return outcome.value
