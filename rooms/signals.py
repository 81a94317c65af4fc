"""What happened in rooms, for the apps above this one (design.md section 5): they
listen here instead of being imported by rooms. Each signal is sent once the change
is committed; a receiver that fails is logged and does not undo the change
(send_robust)."""

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

# sender=Membership; kwargs: membership (pending, with invited_by), sent after commit
member_invited = Signal()


def room_signal_send(signal, sender, **kwargs):
    """Tell the receivers; call it from an on-commit callback."""
    for receiver, result in signal.send_robust(sender=sender, **kwargs):
        if isinstance(result, Exception):
            logger.error("receiver %r of a room signal failed: %r", receiver, result)
