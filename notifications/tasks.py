"""Background work of notifications, run by the worker (`manage.py worker`)."""

from django_tasks import task

from messages_app.models import Message
from notifications.digest import digest_send
from notifications.emails import invitation_email_send
from notifications.services import notifications_create
from rooms.models import Membership


@task()
def notify_message(message_id, mentioned_ids):
    """Create the notifications of a new message (then push them); how many."""
    message = Message.objects.select_related("room", "author").filter(pk=message_id, deleted_at=None).first()
    if message is None:  # deleted before the worker came to it: nobody needs to hear
        return 0
    return len(notifications_create(message=message, mentioned_ids=mentioned_ids))


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
