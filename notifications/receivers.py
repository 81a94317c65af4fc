"""How notifications hears of new messages (messages_app's message_posted signal)
and invitations (rooms' member_invited), both sent after commit. The receivers run
on the request's or the consumer's path, so they only decide whether there is
anything to do and leave the work to the background worker."""

from messages_app.signals import message_posted
from notifications.services import message_may_notify
from notifications.tasks import invitation_email, notify_message
from rooms.signals import member_invited


def _message_posted(sender, message, mentioned_ids=(), **kwargs):
    if message_may_notify(message=message, mentioned_ids=mentioned_ids):
        notify_message.enqueue(message.pk, list(mentioned_ids))


def _member_invited(sender, membership, **kwargs):
    invitation_email.enqueue(membership.pk)


def connect():
    message_posted.connect(_message_posted, dispatch_uid="notifications.message_posted")
    member_invited.connect(_member_invited, dispatch_uid="notifications.member_invited")
