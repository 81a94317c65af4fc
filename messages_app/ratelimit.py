"""How many messages one user sent in one room lately: the counter behind CHAT_RATE_LIMIT.

A sliding window: a send is allowed while fewer than `count` sends were allowed in
the last `seconds`. Refused sends are not counted, so a user who keeps pressing
Enter is let through again as soon as the oldest counted send leaves the window.

Where the counts live:
- Redis when REDIS_URL is set, shared by every server process, under the channel
  layer's prefix: `<prefix>:ratelimit:<room>:<user>`, a sorted set of the allowed
  sends' times (µs, Redis's clock), changed only by one Lua script so that two
  processes cannot both let the last allowed send through. It expires with the window.
- This process's memory otherwise (the one-process development fallback).

Redis not answering must not stop a conversation: the send is then allowed (and
a warning logged); Postgres, not this counter, is what must hold every message.
"""

import functools
import logging
import math
import threading
import time
import uuid
from collections import deque

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

# Asked once per message: a Redis that hangs may delay a send by this much, not more.
REDIS_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}

HIT_SCRIPT = """
-- KEYS: one user's sends in one room. ARGV: count, window (seconds), a unique member.
-- Returns 0 when the send is allowed (and counted), else the milliseconds until it would be.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local window = tonumber(ARGV[2]) * 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
  return math.max(1, math.ceil((oldest + window - now) / 1000))
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
return 0
"""


class RedisSendCounter:
    """Counts in Redis, shared by every server process."""

    def __init__(self, *, url, prefix):
        self.url, self.prefix = url, prefix
        self._lock = threading.Lock()
        self._script = None

    def key(self, *, room_id, user_id):
        return f"{self.prefix}:ratelimit:{room_id}:{user_id}"

    def hit(self, *, room_id, user_id, count, seconds):
        """Count one send; 0 when allowed, else the seconds to wait."""
        keys = [self.key(room_id=room_id, user_id=user_id)]
        wait_ms = self._hit_script()(keys=keys, args=[count, seconds, uuid.uuid4().hex])
        return wait_ms / 1000

    def _hit_script(self):
        with self._lock:
            if self._script is None:
                client = redis.Redis.from_url(self.url, **REDIS_OPTIONS)
                self._script = client.register_script(HIT_SCRIPT)
            return self._script


class MemorySendCounter:
    """The same rule in this process's memory, for the one-process development setup."""

    SWEEP_EVERY = 1000  # hits between sweeps of users who stopped sending

    def __init__(self):
        self._lock = threading.Lock()
        self._sends = {}  # (room id, user id) -> deque of allowed send times, oldest first
        self._hits = 0

    def hit(self, *, room_id, user_id, count, seconds):
        now = time.monotonic()
        with self._lock:
            self._hits += 1
            if self._hits % self.SWEEP_EVERY == 0:
                self._sweep(now, seconds)
            sends = self._sends.setdefault((room_id, user_id), deque())
            while sends and sends[0] <= now - seconds:
                sends.popleft()
            if len(sends) >= count:
                return sends[0] + seconds - now
            sends.append(now)
            return 0

    def _sweep(self, now, seconds):
        for key in [key for key, sends in self._sends.items() if not sends or sends[-1] <= now - seconds]:
            del self._sends[key]


@functools.cache
def send_counter():
    """Redis when the project has one (several processes share it), else this process's memory."""
    if settings.REDIS_URL:
        return RedisSendCounter(url=settings.REDIS_URL, prefix=settings.REDIS_KEY_PREFIX)
    return MemorySendCounter()


def send_wait_seconds(*, room_id, user_id, count, seconds):
    """Count one send of the user in the room: 0 when it is allowed, else how many
    seconds (rounded up, at least 1) until it would be. Allowed when Redis does not answer."""
    try:
        wait = send_counter().hit(room_id=room_id, user_id=user_id, count=count, seconds=seconds)
    except redis.RedisError:
        logger.warning("rate limit unavailable room=%s user=%s", room_id, user_id, exc_info=True)
        return 0
    return max(1, math.ceil(wait)) if wait > 0 else 0
