"""Render once, then hand the result to every socket that should see it.

The channel layer is a doorbell, not the record: Postgres holds every message,
and a page that missed a frame catches up through `?after=<id>`.

Groups:
    room_<pk>          sockets showing the room: message fragments, edits, deletions
    room_<pk>_members  sockets of the room's members showing another room: badge events
    user_<pk>          every socket of one user: read state shared between their tabs
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.template.loader import render_to_string

from messages_app.selectors import message_run_of

logger = logging.getLogger(__name__)


def room_group(room):
    """The group of every open page of the room."""
    return f"room_{room.pk}"


def room_members_group(room_id):
    """The group of members' sockets that show another room (for unread badges)."""
    return f"room_{room_id}_members"


def user_group(user_id):
    """The group of every socket of one user, whatever room it shows."""
    return f"user_{user_id}"


def _group_send(group, event):
    try:
        async_to_sync(get_channel_layer().group_send)(group, event)
    except Exception:
        # The database already holds the change; pages that miss it catch up.
        logger.exception("group_send failed group=%s type=%s", group, event.get("type"))
        return False
    return True


def room_send(room, event):
    """Send an event to every page showing the room."""
    return _group_send(room_group(room), event)


def room_broadcast_html(room, html, **extra):
    """Send a rendered fragment to every page showing the room."""
    return room_send(room, {"type": "chat.html", "html": html, **extra})


def message_broadcast(message, *, mentioned_ids=()):
    """A new message: its fragment, rendered once (never per recipient), to the
    room's pages; a small event to members elsewhere, for their unread badges."""
    html = render_to_string(
        "messages_app/partials/message_oob.html", {"message": message, "room": message.room}
    )
    # When the layer is down, the sender's own socket shows the message (consumers).
    # author_id: the pages that show the author typing take that line away (consumers).
    message.broadcast_ok = room_broadcast_html(message.room, html, author_id=message.author_id)
    if message.broadcast_ok:
        logger.info("message broadcast room=%s id=%s bytes=%d", message.room.slug, message.pk, len(html))
    _group_send(
        room_members_group(message.room_id),
        {
            "type": "room.activity",
            "room_id": message.room_id,
            "message_id": message.pk,
            "author_id": message.author_id,
            "mentions": list(mentioned_ids),
        },
    )


def message_update_broadcast(message):
    """An edited or deleted message: replace it in place on every page showing it."""
    context = {"message": message_run_of(message), "room": message.room, "oob": True}
    html = render_to_string("messages_app/partials/message.html", context)
    if room_broadcast_html(message.room, html):
        logger.info("message update broadcast room=%s id=%s", message.room.slug, message.pk)


def user_send(user_id, event):
    """An event for every socket of one user."""
    return _group_send(user_group(user_id), event)


def user_read_broadcast(*, user_id, room_id, message_id):
    """The user read a room up to a message: every tab of theirs clears that badge."""
    user_send(user_id, {"type": "room.read", "room_id": room_id, "message_id": message_id})
