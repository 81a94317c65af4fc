"""Render a message once and hand it to every open page of its room.

The channel layer is a doorbell, not the record: Postgres holds every message,
and a page that missed a frame catches up through `?after=<id>`.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def room_group(room):
    """The channel-layer group that every open page of the room belongs to."""
    return f"room_{room.pk}"


def room_broadcast_html(room, html):
    """Send a rendered fragment to every socket of the room."""
    async_to_sync(get_channel_layer().group_send)(room_group(room), {"type": "chat.html", "html": html})


def message_broadcast(message):
    """Render the message fragment once (never per recipient) and fan it out."""
    html = render_to_string("messages_app/partials/message_oob.html", {"message": message})
    try:
        room_broadcast_html(message.room, html)
    except Exception:
        # The message is saved; pages that miss the frame catch up by id.
        logger.exception("broadcast failed room=%s id=%s", message.room.slug, message.pk)
        return
    logger.info("message broadcast room=%s id=%s bytes=%d", message.room.slug, message.pk, len(html))
