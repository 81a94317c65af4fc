"""One socket's part in its room's presence: entered once the socket is in the room's
group, kept fresh while it is open (one refresher per process renews every due entry
in one round trip), left when it closes; and its typing events, throttled."""

import asyncio
import logging
import math
import random
import time
import weakref

from asgiref.sync import sync_to_async
from django.conf import settings

from config.db_threads import in_db_thread
from rooms.presence.roster import presence_announce, presence_event
from rooms.presence.stores import presence_enter, presence_leave, presence_refresh_many, presence_ttl
from rooms.presence.typing import typing_broadcast

logger = logging.getLogger(__name__)

# How long a closing socket waits for a refresh of its entry in flight.
STOP_TIMEOUT_SECONDS = 5


def _off_db_thread(function):
    """sync_to_async for work without queries (a render, a group_send): run in any
    worker thread, not queued behind the one thread database calls share."""
    return sync_to_async(function, thread_sensitive=False)


# Sockets refreshed in one Redis round trip at most.
REFRESH_BATCH = 500
# Due entries are gathered this often: small batches, so that none holds the event
# loop for long (a batch's commands are packed and its replies parsed in one go).
REFRESH_TICK_SECONDS = 0.2


def _refresh_period():
    return presence_ttl() / 3


class _Refresher:
    """Keeps every open socket's entry of this process (and event loop) fresh: one task
    that, each tick, refreshes the entries due in one round trip, instead of a task and
    a round trip per socket, which saturated a process holding 19,000 sockets
    (docs/performance.md, idle)."""

    def __init__(self):
        self.due = {}  # SocketPresence -> monotonic time of its next refresh
        self.task = None

    def add(self, socket):
        # The first refresh at a random part of the period: sockets that opened together
        # (a deploy, a reconnect storm) do not all come due in the same tick ever after.
        self.due[socket] = time.monotonic() + random.uniform(0.5, 1) * _refresh_period()
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())

    def discard(self, socket):
        self.due.pop(socket, None)

    async def _run(self):
        while self.due:
            await asyncio.sleep(min(REFRESH_TICK_SECONDS, _refresh_period() / 2))
            now = time.monotonic()
            due = [socket for socket, at in self.due.items() if at <= now]
            for start in range(0, len(due), REFRESH_BATCH):
                await self._refresh(due[start : start + REFRESH_BATCH])

    async def _refresh(self, sockets):
        # Only sockets still open: one that left meanwhile must not be entered again.
        sockets = [socket for socket in sockets if socket in self.due]
        if not sockets:
            return
        batch = asyncio.get_running_loop().create_future()
        for socket in sockets:
            self.due[socket] = time.monotonic() + _refresh_period()
            socket.refreshing = batch
        try:
            entries = [(socket.room.pk, socket.user.pk, socket.channel_name) for socket in sockets]
            changed = await presence_refresh_many(entries)
            rooms = {socket.room.pk: socket.room for socket, did in zip(sockets, changed, strict=True) if did}
            for room in rooms.values():
                await presence_announce(room)
        except Exception:
            logger.warning("presence refresh failed for %d sockets", len(sockets), exc_info=True)
        finally:
            batch.set_result(None)


_refreshers = weakref.WeakKeyDictionary()  # event loop -> _Refresher


def _refresher():
    return _refreshers.setdefault(asyncio.get_running_loop(), _Refresher())


# --- One socket ----------------------------------------------------------------------


class SocketPresence:
    """One socket's part in its room's presence: entered once the socket is in the
    room's group, kept fresh while it is open, left when it closes; and its typing
    events, relayed at most once per CHAT_TYPING_THROTTLE seconds."""

    def __init__(self, *, room, user, channel_name):
        self.room, self.user, self.channel_name = room, user, channel_name
        self.refreshing = None  # the refresh batch this socket was last in (_Refresher)
        self._typing_at = -math.inf

    async def enter(self, show_roster):
        """Enter the room; `show_roster(event)` hands a roster event to this socket alone."""
        try:
            if await self._update(entering=True):
                await presence_announce(self.room)
            else:
                # Nothing new for the room, but this page may have missed changes since
                # it was rendered (or while it reconnected): bring it up to date.
                await show_roster(await in_db_thread(presence_event)(room=self.room))
        except Exception:
            logger.exception("presence enter failed room=%s user=%s", self.room.slug, self.user.username)
        _refresher().add(self)

    async def leave(self):
        _refresher().discard(self)
        if self.refreshing is not None:
            # Let a refresh in flight finish first, so that it cannot re-add the entry after we remove it.
            try:
                await asyncio.wait_for(asyncio.shield(self.refreshing), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                logger.warning("presence refresh did not finish room=%s", self.room.slug)
        try:
            if await self._update(entering=False):
                await presence_announce(self.room)
        except Exception:
            logger.exception("presence leave failed room=%s user=%s", self.room.slug, self.user.username)

    async def typing(self):
        """Show "<user> is typing…" to the room, unless this socket did so very recently."""
        now = time.monotonic()
        if now - self._typing_at < settings.CHAT_TYPING_THROTTLE:
            return False
        self._typing_at = now
        await _off_db_thread(typing_broadcast)(room=self.room, user=self.user)
        return True

    async def _update(self, *, entering):
        update = presence_enter if entering else presence_leave
        return await update(room_id=self.room.pk, user_id=self.user.pk, channel_name=self.channel_name)
