"""Who has a room open now ("presence"), and who is typing.

Each open socket of a room's page holds an entry that expires unless its
process refreshes it (every third of CHAT_PRESENCE_TTL, all of a process's
due entries in one round trip). A server process
killed without running its disconnect handlers leaves entries that simply run
out: readers never count an expired entry, and the next update in the room
removes it and tells the room. A user is present while any of their sockets
is, so closing one of two tabs changes nothing.

Where the entries live:
- Redis when REDIS_URL is set, shared by every server process, under the
  channel layer's prefix, and changed only by one Lua script, so that "did the
  set of present users change?" has one answer even when processes race:
      <prefix>:presence:<room>           sorted set: user id -> their latest socket expiry
      <prefix>:presence:<room>:<user>    sorted set: channel name -> that socket's expiry
      <prefix>:presence:<room>:version   time (µs) of the last change, never decreasing
      <prefix>:sockets:<user>            sorted set: channel name -> expiry, every room
  Two levels rather than one set of "<user>:<channel>" so that an update costs
  O(log n), not a scan of every socket in the room.
- This process's memory otherwise (the one-process development fallback).

The same entries, counted per user across rooms, cap the sockets one user may
hold open (CHAT_MAX_SOCKETS_PER_USER): `socket_claim` admits a socket before its
handshake completes, and the presence updates refresh and release it, so a killed
process's sockets stop counting once they expire.

When the set changes, a small roster ("Here now": up to ROSTER_NAMES_SHOWN names)
is rendered once and sent to the room's group as an event carrying its version,
an out-of-band replacement of #presence; each consumer forwards only rosters newer
than the last it sent, whatever order those of several processes arrive in. The
roster, not the whole member list, so that a room of thousands does not send each
socket its whole membership whenever someone opens a tab.
"""

import asyncio
import functools
import logging
import math
import random
import threading
import time
import weakref
from dataclasses import dataclass, field

import redis
import redis.asyncio
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.functions import Lower
from django.template.loader import render_to_string

from config.db_threads import in_db_thread
from messages_app.broadcast import room_broadcast_html, room_send
from rooms.selectors import room_members

logger = logging.getLogger(__name__)

# A burst of arrivals (say, every page reconnecting after a deploy) costs one
# roster broadcast per room per this many seconds and process, not one per socket.
ANNOUNCE_GAP_SECONDS = 1.0  # "Here now" may lag a second: bigroom rosters 60 -> 14 MB (docs/performance.md)
# The roster names this many people at most, then says how many more.
ROSTER_NAMES_SHOWN = 20  # a sidebar's worth; every change sends it to every socket of the room
# How long a closing socket waits for a refresh of its entry in flight.
STOP_TIMEOUT_SECONDS = 5
# A Redis that stops answering must not hang pages and sockets forever.
REDIS_OPTIONS = {"socket_connect_timeout": 5, "socket_timeout": 5}
# Presence updates of one server process share this many Redis connections.
REDIS_CONNECTIONS_PER_PROCESS = 20


@dataclass(frozen=True)
class Presence:
    """Who is in a room now; `version` orders snapshots taken anywhere."""

    version: int = 0
    user_ids: frozenset = field(default_factory=frozenset)


def _presence_ttl():
    return settings.CHAT_PRESENCE_TTL


# --- Redis -------------------------------------------------------------------------

UPDATE_SCRIPT = """
-- KEYS: room's users, this user's sockets in the room, version, this user's sockets in every room.
-- ARGV: user id, channel, 'enter' | 'leave', ttl seconds.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local user, channel, ttl = ARGV[1], ARGV[2], tonumber(ARGV[4])
local keep = math.ceil(ttl * 2) + 1

local score = tonumber(redis.call('ZSCORE', KEYS[1], user))
local known, live = score ~= nil, score ~= nil and score > now
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
if ARGV[3] == 'enter' then
  redis.call('ZADD', KEYS[2], now + ttl, channel)
  redis.call('ZADD', KEYS[4], now + ttl, channel)
  redis.call('EXPIRE', KEYS[4], keep)
else
  redis.call('ZREM', KEYS[2], channel)
  redis.call('ZREM', KEYS[4], channel)
end
local latest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
local present = latest[2] ~= nil
if present then
  redis.call('ZADD', KEYS[1], latest[2], user)
  redis.call('EXPIRE', KEYS[1], keep)
  redis.call('EXPIRE', KEYS[2], keep)
else
  redis.call('ZREM', KEYS[1], user)
end
-- Changed for the pages (which last heard `known`) or for readers (who saw `live`).
local changed = present ~= known or present ~= live
-- Users whose every socket ran out (their process died) are gone.
if redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) > 0 then changed = true end
if changed then
  local micros = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
  local version = math.max((tonumber(redis.call('GET', KEYS[3])) or 0) + 1, micros)
  redis.call('SET', KEYS[3], string.format('%.0f', version), 'EX', 86400)
end
return changed and 1 or 0
"""

CLAIM_SCRIPT = """
-- KEYS: the user's sockets in every room. ARGV: channel, ttl seconds, the most a user may hold.
-- 1 when the socket may open (it is then counted), else 0.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(ttl * 2) + 1)
return 1
"""

READ_SCRIPT = """
-- KEYS: room's users, version. Returns the version and the users with a live socket.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
return {redis.call('GET', KEYS[2]) or '0', redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')}
"""


class RedisPresence:
    """Entries in Redis, shared by every server process."""

    def __init__(self, *, url, prefix):
        self.url, self.prefix = url, prefix
        self._lock = threading.Lock()
        self._read = None  # for sync callers (views, broadcasts): one thread-safe pool
        self._async_clients = weakref.WeakKeyDictionary()  # redis.asyncio scripts per event loop

    def _room_key(self, room_id):
        return f"{self.prefix}:presence:{room_id}"

    def _sockets_key(self, user_id):
        return f"{self.prefix}:sockets:{user_id}"

    def _update_call(self, *, room_id, user_id, channel_name, entering, ttl):
        keys = [
            self._room_key(room_id),
            f"{self._room_key(room_id)}:{user_id}",
            f"{self._room_key(room_id)}:version",
            self._sockets_key(user_id),
        ]
        return {"keys": keys, "args": [user_id, channel_name, "enter" if entering else "leave", ttl]}

    async def update(self, *, room_id, user_id, channel_name, entering, ttl):
        call = self._update_call(
            room_id=room_id, user_id=user_id, channel_name=channel_name, entering=entering, ttl=ttl
        )
        return bool(await self._async_scripts()["update"](**call))

    async def refresh_many(self, entries, *, ttl):
        """Refresh (room id, user id, channel) entries in one round trip (a pipeline of
        the same script); for each, True when its room's present users changed."""
        script = self._async_scripts()["update"]
        async with script.registered_client.pipeline(transaction=False) as pipe:
            for room_id, user_id, channel_name in entries:
                call = self._update_call(
                    room_id=room_id, user_id=user_id, channel_name=channel_name, entering=True, ttl=ttl
                )
                await script(**call, client=pipe)  # queued, sent by execute()
            return [bool(changed) for changed in await pipe.execute()]

    async def claim_socket(self, *, user_id, channel_name, ttl, limit):
        keys, args = [self._sockets_key(user_id)], [channel_name, ttl, limit]
        return bool(await self._async_scripts()["claim"](keys=keys, args=args))

    def get(self, *, room_id):
        keys = [self._room_key(room_id), f"{self._room_key(room_id)}:version"]
        version, user_ids = self._read_script()(keys=keys)
        return Presence(version=int(version), user_ids=frozenset(int(user_id) for user_id in user_ids))

    def _read_script(self):
        with self._lock:
            if self._read is None:
                self._read = redis.Redis.from_url(self.url, **REDIS_OPTIONS).register_script(READ_SCRIPT)
            return self._read

    def _async_scripts(self):
        loop = asyncio.get_running_loop()
        scripts = self._async_clients.get(loop)
        if scripts is None:
            # A bounded pool: thousands of sockets refreshing at once wait for one of a few
            # connections instead of each opening its own (Redis refused them at 5,000).
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                self.url, max_connections=REDIS_CONNECTIONS_PER_PROCESS, **REDIS_OPTIONS
            )
            client = redis.asyncio.Redis.from_pool(pool)
            scripts = {
                "update": client.register_script(UPDATE_SCRIPT),
                "claim": client.register_script(CLAIM_SCRIPT),
            }
            self._async_clients[loop] = scripts
        return scripts

    async def aclose(self):
        """Close this event loop's pool (tests run each in a loop of its own)."""
        scripts = self._async_clients.pop(asyncio.get_running_loop(), None)
        if scripts is not None:
            await scripts["update"].registered_client.aclose()


# --- Process memory ----------------------------------------------------------------


class MemoryPresence:
    """The same rules in this process's memory, for the one-process development setup."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sockets = {}  # (room id, user id) -> {channel name: expiry}
        self._users = {}  # room id -> {user id: their latest socket expiry}
        self._versions = {}  # room id -> version
        self._user_sockets = {}  # user id -> {channel name: expiry}, every room

    async def update(self, *, room_id, user_id, channel_name, entering, ttl):
        now = time.time()
        with self._lock:
            self._count_socket(user_id, channel_name, now + ttl if entering else None, now)
            users = self._users.setdefault(room_id, {})
            known = user_id in users
            live = known and users[user_id] > now
            sockets = self._sockets.setdefault((room_id, user_id), {})
            for channel in [channel for channel, expiry in sockets.items() if expiry <= now]:
                del sockets[channel]
            if entering:
                sockets[channel_name] = now + ttl
            else:
                sockets.pop(channel_name, None)
            present = bool(sockets)
            if present:
                users[user_id] = max(sockets.values())
            else:
                users.pop(user_id, None)
                del self._sockets[(room_id, user_id)]
            changed = present != known or present != live
            for stale in [user for user, expiry in users.items() if expiry <= now]:
                del users[stale]
                self._sockets.pop((room_id, stale), None)
                changed = True
            if changed:
                self._versions[room_id] = max(self._versions.get(room_id, 0) + 1, time.time_ns() // 1000)
            return changed

    async def refresh_many(self, entries, *, ttl):
        return [
            await self.update(room_id=room_id, user_id=user_id, channel_name=channel, entering=True, ttl=ttl)
            for room_id, user_id, channel in entries
        ]

    async def claim_socket(self, *, user_id, channel_name, ttl, limit):
        now = time.time()
        with self._lock:
            sockets = self._count_socket(user_id, None, None, now)
            if channel_name not in sockets and len(sockets) >= limit:
                return False
            self._count_socket(user_id, channel_name, now + ttl, now)
            return True

    def _count_socket(self, user_id, channel_name, expiry, now):
        """Drop the user's expired sockets, then add, refresh (expiry) or remove (None) one."""
        sockets = {
            channel: until for channel, until in self._user_sockets.get(user_id, {}).items() if until > now
        }
        if channel_name is not None:
            sockets.pop(channel_name, None)
            if expiry is not None:
                sockets[channel_name] = expiry
        if sockets:
            self._user_sockets[user_id] = sockets
        else:
            self._user_sockets.pop(user_id, None)
        return sockets

    def get(self, *, room_id):
        now = time.time()
        with self._lock:
            users = self._users.get(room_id, {})
            return Presence(
                version=self._versions.get(room_id, 0),
                user_ids=frozenset(user for user, expiry in users.items() if expiry > now),
            )

    async def aclose(self):
        pass


@functools.cache
def presence_store():
    """Redis when the project has one (several processes share it), else this process's memory."""
    if settings.REDIS_URL:
        return RedisPresence(url=settings.REDIS_URL, prefix=settings.REDIS_KEY_PREFIX)
    return MemoryPresence()


async def presence_enter(*, room_id, user_id, channel_name):
    """Add or refresh one socket's entry; True when the room's present users changed."""
    return await presence_store().update(
        room_id=room_id, user_id=user_id, channel_name=channel_name, entering=True, ttl=_presence_ttl()
    )


async def presence_leave(*, room_id, user_id, channel_name):
    """Remove one socket's entry; True when the room's present users changed."""
    return await presence_store().update(
        room_id=room_id, user_id=user_id, channel_name=channel_name, entering=False, ttl=_presence_ttl()
    )


async def socket_claim(*, user_id, channel_name):
    """May the user open one more socket? False once they hold CHAT_MAX_SOCKETS_PER_USER
    (0: no cap) on any server process; the socket is then counted until its presence
    leaves or runs out. Without an answer from Redis, True: the cap never locks users out."""
    limit = settings.CHAT_MAX_SOCKETS_PER_USER
    if not limit:
        return True
    try:
        return await presence_store().claim_socket(
            user_id=user_id, channel_name=channel_name, ttl=_presence_ttl(), limit=limit
        )
    except redis.RedisError:
        logger.warning("socket count unavailable user=%s", user_id, exc_info=True)
        return True


def presence_get(*, room_id):
    """Who has the room open now (expired entries never count). Without an answer from
    Redis, nobody: the room page still shows its messages."""
    try:
        return presence_store().get(room_id=room_id)
    except redis.RedisError:
        logger.warning("presence unavailable room=%s", room_id, exc_info=True)
        return Presence()


# --- Fragments ---------------------------------------------------------------------


def _off_db_thread(function):
    """sync_to_async for work without queries (a Redis read, a render, a group_send):
    run in any worker thread, not queued behind the one thread database calls share."""
    return sync_to_async(function, thread_sensitive=False)


def _with_query(function):
    """The same for work with a query (the roster's names), on the threads that keep
    pooled connections (config/db_threads.py)."""
    return in_db_thread(function)


def roster_context(*, presence, users):
    """The #presence roster's context: `users` are those present (any order); a room
    of thousands shows the first ROSTER_NAMES_SHOWN names and how many more."""
    here = sorted(users, key=lambda user: user.username.lower())[:ROSTER_NAMES_SHOWN]
    count = len(presence.user_ids)
    return {"presence": presence, "here": here, "here_count": count, "more_here": max(count - len(here), 0)}


def presence_event(*, room):
    """The room's roster rendered once, as a channel layer event carrying its version:
    each consumer forwards only rosters newer than the last it sent (one query)."""
    presence = presence_get(room_id=room.pk)
    users = get_user_model().objects.filter(pk__in=presence.user_ids).order_by(Lower("username"))
    context = {**roster_context(presence=presence, users=users[:ROSTER_NAMES_SHOWN]), "oob": True}
    html = render_to_string("rooms/partials/presence.html", context)
    return {"type": "room.presence", "version": presence.version, "html": html}


def presence_broadcast(*, room):
    """Tell every page of the room who is here now."""
    return room_send(room, presence_event(room=room))


def member_pane_context(*, room):
    """Members and who of them is here now: one query and one Redis read."""
    members, presence = room_members(room=room), presence_get(room_id=room.pk)
    here = [membership.user for membership in members if membership.user_id in presence.user_ids]
    return {"room": room, "members": members, **roster_context(presence=presence, users=here)}


def member_list_html(*, room):
    """The whole member pane (an answer to a moderator's htmx request)."""
    return render_to_string("rooms/partials/member_list.html", member_pane_context(room=room))


def member_list_broadcast(*, room):
    """Render the members once and replace them on every page of the room; not the
    roster beside them, which may be newer on a page than what this render read."""
    context = {"room": room, "members": room_members(room=room), "oob": True}
    return room_broadcast_html(room, render_to_string("rooms/partials/member_roll.html", context))


def typing_broadcast(*, room, user):
    """One "… is typing" line for the whole room, rendered once in both forms a
    consumer may need (see typing.html); the typist's own sockets skip it."""
    typing = functools.partial(render_to_string, "rooms/partials/typing.html")
    event = {
        "type": "room.typing",
        "user_id": user.pk,
        "append": typing({"typist": user, "append": True}),
        "replace": typing({"typist": user, "append": False}),
    }
    return room_send(room, event)


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
            await _with_query(presence_broadcast)(room=room)
        except Exception:
            logger.exception("presence broadcast failed room=%s", room.slug)


_announcements = weakref.WeakKeyDictionary()  # event loop -> {room id: _Announcements}


async def presence_announce(room):
    """The room's present users changed: tell its pages (see _Announcements)."""
    rooms = _announcements.setdefault(asyncio.get_running_loop(), {})
    await rooms.setdefault(room.pk, _Announcements()).announce(room)


# --- Keeping entries fresh -----------------------------------------------------------

# Sockets refreshed in one Redis round trip at most.
REFRESH_BATCH = 500
# Due entries are gathered this often: small batches, so that none holds the event
# loop for long (a batch's commands are packed and its replies parsed in one go).
REFRESH_TICK_SECONDS = 0.2


def _refresh_period():
    return _presence_ttl() / 3


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
            changed = await presence_store().refresh_many(entries, ttl=_presence_ttl())
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
                await show_roster(await _with_query(presence_event)(room=self.room))
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
