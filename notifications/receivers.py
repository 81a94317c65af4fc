"""How notifications hears of new messages (messages_app's message_posted signal)
and invitations (rooms' member_invited), both sent after commit. The receivers run
on the request's or the consumer's path, so they only decide whether there is
anything to do and leave the work to the background worker."""

import logging

from django.db import DatabaseError

from messages_app.signals import message_posted
from notifications.services import message_may_notify
from notifications.tasks import invitation_email, notify_message
from rooms.signals import member_invited

logger = logging.getLogger(__name__)


def _message_posted(sender, message, mentioned_ids=(), **kwargs):
    try:
        if message_may_notify(message=message, mentioned_ids=mentioned_ids):
            notify_message.enqueue(message.pk, list(mentioned_ids))
    except DatabaseError as error:
        # The database went away after the message was committed: the message stands,
        # its notifications are lost (one line, not a traceback: an outage is logged
        # where it happens).
        logger.warning("notifications not queued message=%s: %s", message.pk, str(error).splitlines()[0])


def _member_invited(sender, membership, **kwargs):
    invitation_email.enqueue(membership.pk)


def connect():
    message_posted.connect(_message_posted, dispatch_uid="notifications.message_posted")
    member_invited.connect(_member_invited, dispatch_uid="notifications.member_invited")
