"""The Redis channel layer, made to ride out a Redis outage.

channels ends a consumer when its channel layer's receive() raises, so a Redis
restart would close every socket at once, and Redis restarted without
persistence forgets every group. This layer's receive() waits Redis out instead,
and when Redis answers again it tells the consumers that registered, so they
join their groups again and have their pages catch up from Postgres.
"""

import asyncio
import logging
import weakref

from channels_redis.core import RedisChannelLayer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError, OSError)


class ResilientRedisChannelLayer(RedisChannelLayer):
    RETRY_MAX_SECONDS = 2
    PING_EVERY_SECONDS = 0.5

    def __init__(self, *args, group_refresh_seconds=3600, **kwargs):
        super().__init__(*args, **kwargs)
        # Consumers re-add themselves to their groups this often, well within
        # group_expiry, so a page open for days still receives.
        self.group_refresh_seconds = group_refresh_seconds
        self._recovery_listeners = weakref.WeakSet()
        self._recovery_watch = None

    def on_recovery(self, listener):
        """Call `await listener.layer_recovered()` when Redis answers after an outage."""
        self._recovery_listeners.add(listener)

    async def receive(self, channel):
        delay = 0.1
        while True:
            try:
                return await super().receive(channel)
            except REDIS_DOWN:
                self._watch_for_recovery()
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.RETRY_MAX_SECONDS)

    def _watch_for_recovery(self):
        if self._recovery_watch is None or self._recovery_watch.done():
            logger.warning("channel layer: Redis is unreachable; waiting for it to return")
            self._recovery_watch = asyncio.ensure_future(self._wait_for_redis())

    async def _wait_for_redis(self):
        while not await self._redis_answers():
            await asyncio.sleep(self.PING_EVERY_SECONDS)
        logger.warning(
            "channel layer: Redis is back; %d sockets rejoin their groups", len(self._recovery_listeners)
        )
        for listener in list(self._recovery_listeners):
            asyncio.ensure_future(listener.layer_recovered())

    async def _redis_answers(self):
        try:
            await self.connection(0).ping()
        except REDIS_DOWN:
            return False
        return True
