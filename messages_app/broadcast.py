"""Render a message once, then hand the result to every socket that should see it
(the groups and the send itself: config/realtime.py).
"""

import logging

from django.template.loader import render_to_string

from config.realtime import group_send, room_broadcast_html, room_members_group, user_send
from messages_app.selectors import message_list_pinned, message_run_of, reaction_groups_attach

logger = logging.getLogger(__name__)


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
        logger.debug("message broadcast room=%s id=%s bytes=%d", message.room.slug, message.pk, len(html))
    group_send(
        room_members_group(message.room_id),
        {
            "type": "room.activity",
            "room_id": message.room_id,
            "message_id": message.pk,
            "author_id": message.author_id,
            "mentions": list(mentioned_ids),
            "notice": _page_notice_html(message, mentioned_ids=mentioned_ids),
        },
    )


def _page_notice_html(message, *, mentioned_ids):
    """What a desktop notification would say, for the members it may concern (those
    mentioned; everyone in a direct conversation), rendered once; else ""."""
    if not (mentioned_ids or message.room.is_direct):
        return ""
    context = {"message": message, "room": message.room, "mentioned_ids": mentioned_ids}
    return render_to_string("messages_app/partials/page_notice.html", context)


def page_notice_for(event, *, user_id, room):
    """A room.activity event's notice, if it concerns this user (they are mentioned, or
    it is a direct message), else "". The page decides whether to show it."""
    if room.is_direct or user_id in event["mentions"]:
        return event.get("notice", "")
    return ""


def message_update_broadcast(message):
    """An edited or deleted message: replace it in place on every page showing it, and
    in the same frame, if it has replies, their quotes of it (all of them, by one
    fragment): "original deleted" shows live, as an edit or a restore does."""
    context = {"message": message_run_of(message), "room": message.room, "oob": True}
    html = render_to_string("messages_app/partials/message.html", context)
    if message.reply_count:
        quote = {"original": message, "room": message.room, "quote_oob": True}
        html += render_to_string("messages_app/partials/reply_quote.html", quote)
    if room_broadcast_html(message.room, html):
        logger.info("message update broadcast room=%s id=%s", message.room.slug, message.pk)


def reactions_broadcast(message):
    """Someone toggled a reaction: the message's reactions bar, read afresh (the latest
    of concurrent toggles wins) and rendered once, replaces it on every page. A page that
    does not show the message drops the frame (reactions.js)."""
    reaction_groups_attach([message])
    context = {"message": message, "room": message.room, "oob": True}
    html = render_to_string("messages_app/partials/reactions.html", context)
    if room_broadcast_html(message.room, html):
        logger.info("reactions broadcast room=%s id=%s bytes=%d", message.room.slug, message.pk, len(html))


def pins_broadcast(room):
    """The room's pins changed: every page's pins panel shows the list anew."""
    context = {"room": room, "pinned_messages": message_list_pinned(room=room), "oob": True}
    room_broadcast_html(room, render_to_string("messages_app/partials/pins_list.html", context))


def user_read_broadcast(*, user_id, room_id, message_id):
    """The user read a room up to a message: every tab of theirs clears that badge."""
    user_send(user_id, {"type": "room.read", "room_id": room_id, "message_id": message_id})
