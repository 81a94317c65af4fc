"""Where presence entries live, and the calls on them.

Redis when REDIS_URL is set, shared by every server process, under the channel
layer's prefix, and changed only by one Lua script, so that "did the set of present
users change?" has one answer even when processes race:
    <prefix>:presence:<room>           sorted set: user id -> their latest socket expiry
    <prefix>:presence:<room>:<user>    sorted set: channel name -> that socket's expiry
    <prefix>:presence:<room>:version   time (µs) of the last change, never decreasing
    <prefix>:sockets:<user>            sorted set: channel name -> expiry, every room
Two levels rather than one set of "<user>:<channel>" so that an update costs
O(log n), not a scan of every socket in the room. This process's memory otherwise
(the one-process development fallback).

The same entries, counted per user across rooms, cap the sockets one user may hold
open (CHAT_MAX_SOCKETS_PER_USER): `socket_claim` admits a socket before its handshake
completes, and the presence updates refresh and release it, so a killed process's
sockets stop counting once they expire.
"""

import asyncio
import functools
import logging
import threading
import time
import weakref
from dataclasses import dataclass, field

import redis
import redis.asyncio
from django.conf import settings

logger = logging.getLogger(__name__)

# A Redis that stops answering must not hang pages and sockets forever.
REDIS_OPTIONS = {"socket_connect_timeout": 5, "socket_timeout": 5}
# Presence updates of one server process share this many Redis connections.
REDIS_CONNECTIONS_PER_PROCESS = 20
# CHAT_MAX_SOCKETS_PER_USER = 0 still counts sockets, under this cap no one reaches.
UNCAPPED = 1_000_000


@dataclass(frozen=True)
class Presence:
    """Who is in a room now; `version` orders snapshots taken anywhere."""

    version: int = 0
    user_ids: frozenset = field(default_factory=frozenset)


def presence_ttl():
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

ONLINE_SCRIPT = """
-- KEYS: users' sockets in every room. For each, 1 when one of them is live, else 0.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local online = {}
for i, key in ipairs(KEYS) do
  online[i] = redis.call('ZCOUNT', key, '(' .. now, '+inf') > 0 and 1 or 0
end
return online
"""


class RedisPresence:
    """Entries in Redis, shared by every server process."""

    def __init__(self, *, url, prefix):
        self.url, self.prefix = url, prefix
        self._lock = threading.Lock()
        self._read = None  # for sync callers (views, broadcasts): one thread-safe pool
        self._online = None
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

    async def release_socket(self, *, user_id, channel_name):
        client = self._async_scripts()["claim"].registered_client
        await client.zrem(self._sockets_key(user_id), channel_name)

    def get(self, *, room_id):
        keys = [self._room_key(room_id), f"{self._room_key(room_id)}:version"]
        version, user_ids = self._read_script()(keys=keys)
        return Presence(version=int(version), user_ids=frozenset(int(user_id) for user_id in user_ids))

    def online(self, *, user_ids):
        user_ids = list(user_ids)
        if not user_ids:
            return set()
        flags = self._read_script(ONLINE_SCRIPT)(keys=[self._sockets_key(user_id) for user_id in user_ids])
        return {user_id for user_id, flag in zip(user_ids, flags, strict=True) if flag}

    def _read_script(self, script=READ_SCRIPT):
        with self._lock:
            if self._read is None:
                client = redis.Redis.from_url(self.url, **REDIS_OPTIONS)
                self._read = client.register_script(READ_SCRIPT)
                self._online = client.register_script(ONLINE_SCRIPT)
            return self._read if script is READ_SCRIPT else self._online

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

    async def release_socket(self, *, user_id, channel_name):
        with self._lock:
            self._count_socket(user_id, channel_name, None, time.time())

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

    def online(self, *, user_ids):
        now = time.time()
        with self._lock:
            return {
                user_id
                for user_id in user_ids
                if any(until > now for until in self._user_sockets.get(user_id, {}).values())
            }

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
        room_id=room_id, user_id=user_id, channel_name=channel_name, entering=True, ttl=presence_ttl()
    )


async def presence_leave(*, room_id, user_id, channel_name):
    """Remove one socket's entry; True when the room's present users changed."""
    return await presence_store().update(
        room_id=room_id, user_id=user_id, channel_name=channel_name, entering=False, ttl=presence_ttl()
    )


async def socket_claim(*, user_id, channel_name):
    """May the user open one more socket? False once they hold CHAT_MAX_SOCKETS_PER_USER
    (0: no cap) on any server process; the socket is then counted until its presence
    leaves or runs out (with no cap too: the count is how presence_online knows who is
    online). Without an answer from Redis, True: the cap never locks users out."""
    limit = settings.CHAT_MAX_SOCKETS_PER_USER or UNCAPPED
    try:
        return await presence_store().claim_socket(
            user_id=user_id, channel_name=channel_name, ttl=presence_ttl(), limit=limit
        )
    except redis.RedisError:
        logger.warning("socket count unavailable user=%s", user_id, exc_info=True)
        return True


async def socket_release(*, user_id, channel_name):
    """No longer count a socket claimed without a room's presence (the user's own socket,
    user_consumers.py); a room socket's claim goes with its presence instead."""
    try:
        await presence_store().release_socket(user_id=user_id, channel_name=channel_name)
    except redis.RedisError:  # its claim runs out by itself
        logger.warning("socket release failed user=%s", user_id, exc_info=True)


def presence_online(*, user_ids):
    """The ids among `user_ids` of people online now: with a live socket of any kind
    (a room's, the user socket of the home and people pages), on any server process;
    one round trip. Without an answer from Redis, nobody."""
    try:
        return presence_store().online(user_ids=set(user_ids))
    except redis.RedisError:
        logger.warning("online state unavailable", exc_info=True)
        return set()


def presence_get(*, room_id):
    """Who has the room open now (expired entries never count). Without an answer from
    Redis, nobody: the room page still shows its messages."""
    try:
        return presence_store().get(room_id=room_id)
    except redis.RedisError:
        logger.warning("presence unavailable room=%s", room_id, exc_info=True)
        return Presence()


async def presence_refresh_many(entries):
    """Refresh (room id, user id, channel) entries in one round trip; for each, True
    when its room's present users changed."""
    return await presence_store().refresh_many(entries, ttl=presence_ttl())
