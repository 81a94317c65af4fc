"""What every app needs to reach open pages: the group names and the send.

The channel layer is a doorbell, not the record: Postgres holds every change,
and a page that missed a frame catches up through `?after=<id>`. This module
sits below every app (it imports none of them), so accounts, rooms and
messages_app all reach sockets the same way.

Groups:
    room_<pk>          sockets showing the room: message fragments, edits, deletions
    room_<pk>_members  sockets of the room's members showing another room: badge events
    user_<pk>          every socket of one user: read state, sidebar, sign-out
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

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


def group_send(group, event):
    """Send now; False (logged) when the layer is down: the database already holds
    the change, and pages that miss it catch up."""
    try:
        async_to_sync(get_channel_layer().group_send)(group, event)
    except Exception:
        logger.exception("group_send failed group=%s type=%s", group, event.get("type"))
        return False
    return True


def room_send(room, event):
    """Send an event to every page showing the room."""
    return group_send(room_group(room), event)


def room_broadcast_html(room, html, **extra):
    """Send a rendered fragment to every page showing the room."""
    return room_send(room, {"type": "chat.html", "html": html, **extra})


def user_send(user_id, event):
    """An event for every socket of one user."""
    return group_send(user_group(user_id), event)


def user_send_on_commit(user_id, event):
    """The same, once the current transaction commits: a page never hears of a
    change that a rollback took back."""
    transaction.on_commit(lambda: user_send(user_id, event))
