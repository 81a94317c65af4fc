"""Who is here: the "Here now" roster of a room and the member pane beside it.

When the set of present users changes, a small roster (up to ROSTER_NAMES_SHOWN
names) is rendered once and sent to the room's group as an event carrying its
version, an out-of-band replacement of #presence; each consumer forwards only
rosters newer than the last it sent, whatever order those of several processes
arrive in. The roster, not the whole member list, so that a room of thousands does
not send each socket its whole membership whenever someone opens a tab.
"""

import asyncio
import logging
import math
import time
import weakref

from django.contrib.auth import get_user_model
from django.db.models import Value
from django.db.models.functions import Coalesce, Lower, NullIf
from django.template.loader import render_to_string

from config.db_threads import in_db_thread
from config.realtime import room_broadcast_html, room_send
from rooms.presence.stores import presence_get, presence_online
from rooms.selectors import room_members

logger = logging.getLogger(__name__)

# A burst of arrivals (say, every page reconnecting after a deploy) costs one
# roster broadcast per room per this many seconds and process, not one per socket.
ANNOUNCE_GAP_SECONDS = 1.0  # "Here now" may lag a second: bigroom rosters 60 -> 14 MB (docs/performance.md)
# The roster names this many people at most, then says how many more.
ROSTER_NAMES_SHOWN = 20  # a sidebar's worth; every change sends it to every socket of the room


def roster_context(*, presence, users):
    """The #presence roster's context: `users` are those present (any order); a room
    of thousands shows the first ROSTER_NAMES_SHOWN names and how many more."""
    here = sorted(users, key=lambda user: user.shown_name.lower())[:ROSTER_NAMES_SHOWN]
    count = len(presence.user_ids)
    return {"presence": presence, "here": here, "here_count": count, "more_here": max(count - len(here), 0)}


def presence_event(*, room):
    """The room's roster rendered once, as a channel layer event carrying its version:
    each consumer forwards only rosters newer than the last it sent (one query)."""
    presence = presence_get(room_id=room.pk)
    shown_name = Coalesce(NullIf("display_name", Value("")), "username")  # as User.shown_name
    users = get_user_model().objects.filter(pk__in=presence.user_ids).order_by(Lower(shown_name))
    context = {**roster_context(presence=presence, users=users[:ROSTER_NAMES_SHOWN]), "oob": True}
    html = render_to_string("rooms/partials/presence.html", context)
    return {"type": "room.presence", "version": presence.version, "html": html}


def presence_broadcast(*, room):
    """Tell every page of the room who is here now."""
    return room_send(room, presence_event(room=room))


def member_pane_context(*, room, also_online=()):
    """Members, who of them is here now, and who of them (and of the ids `also_online`:
    the page's other avatars) is online anywhere: one query and two Redis reads."""
    members, presence = room_members(room=room), presence_get(room_id=room.pk)
    here = [membership.user for membership in members if membership.user_id in presence.user_ids]
    online_ids = presence_online(user_ids={*(m.user_id for m in members), *also_online})
    context = {"room": room, "members": members, "online_ids": online_ids}
    return {**context, **roster_context(presence=presence, users=here)}


def member_list_html(*, room):
    """The whole member pane (an answer to a moderator's htmx request)."""
    return render_to_string("rooms/partials/member_list.html", member_pane_context(room=room))


def member_list_broadcast(*, room):
    """Render the members once and replace them on every page of the room; not the
    roster beside them, which may be newer on a page than what this render read."""
    members = room_members(room=room)
    online_ids = presence_online(user_ids=[membership.user_id for membership in members])
    context = {"room": room, "members": members, "online_ids": online_ids, "oob": True}
    return room_broadcast_html(room, render_to_string("rooms/partials/member_roll.html", context))


class _Announcements:
    """This process's roster broadcasts for one room: the first change goes out at
    once; changes within ANNOUNCE_GAP_SECONDS of a broadcast share one sent when the
    gap is over, rendered then from the newest state."""

    def __init__(self):
        self.sent_at = -math.inf
        self.pending = None

    async def announce(self, room):
        if self.pending is not None:
            return  # it reads the state when it runs, this change included
        wait = self.sent_at + ANNOUNCE_GAP_SECONDS - time.monotonic()
        if wait > 0:
            self.pending = asyncio.create_task(self._announce_later(room, wait))
            return
        await self._send(room)

    async def _announce_later(self, room, wait):
        try:
            await asyncio.sleep(wait)
        finally:
            self.pending = None  # even if cancelled: never block the room's later announcements
        await self._send(room)

    async def _send(self, room):
        self.sent_at = time.monotonic()
        try:
            await in_db_thread(presence_broadcast)(room=room)
        except Exception:
            logger.exception("presence broadcast failed room=%s", room.slug)


_announcements = weakref.WeakKeyDictionary()  # event loop -> {room id: _Announcements}


async def presence_announce(room):
    """The room's present users changed: tell its pages (see _Announcements)."""
    rooms = _announcements.setdefault(asyncio.get_running_loop(), {})
    await rooms.setdefault(room.pk, _Announcements()).announce(room)
