"""What happened to messages, for the apps above this one (design.md section 5).

Attachments, notifications and the API listen here instead of being imported by
messages_app. Each signal is sent once the change is committed, so a receiver
never sees a message that a rollback took back; a receiver that fails is logged
and does not undo the change or stop the others (send_robust).
"""

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

# sender=Message; kwargs: message, mentioned_ids (the members it mentions, not its author)
message_posted = Signal()
# sender=Message; kwargs: message
message_edited = Signal()
message_deleted = Signal()


def message_signal_send(signal, message, **kwargs):
    """Tell the receivers; call it from an on-commit callback."""
    for receiver, result in signal.send_robust(sender=type(message), message=message, **kwargs):
        if isinstance(result, Exception):
            logger.error("receiver %r of a message signal failed: %r", receiver, result)
