"""Background work of notifications, run by the worker (`manage.py worker`)."""

from django_tasks import task

from messages_app.models import Message
from notifications.services import notifications_create


@task()
def notify_message(message_id, mentioned_ids):
    """Create the notifications of a new message (then push them); how many."""
    message = Message.objects.select_related("room", "author").filter(pk=message_id, deleted_at=None).first()
    if message is None:  # deleted before the worker came to it: nobody needs to hear
        return 0
    return len(notifications_create(message=message, mentioned_ids=mentioned_ids))
