"""The socket of a banned member's page of a room, which brings the room back when
the ban is lifted.

The room's own socket closes with 4403 on a ban (the contract) and would be refused
again, so the banned notice (templates/messages_app/partials/banned_room.html) opens
this one, at /ws/rooms/<slug>/ban/. It follows only the user's group, where
moderation.member_unban sends `rooms.changed` after commit, and on that (or at its
handshake, or after a Redis outage: an unban it may have missed) it looks the ban up in
Postgres. Once the user may read the room again it sends ban_lifted.html, which
loads the room page in place, and closes. Its page reconnects after a server restart
(the ws extension's reconnecting close codes), and each handshake looks again.
"""

import asyncio
import logging

from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string

from config.db_threads import in_db_thread
from config.realtime import user_group
from messages_app.consumers import (
    CLOSE_NOT_FOUND,
    CLOSE_NOT_LOGGED_IN,
    CLOSE_TOO_MANY_SOCKETS,
    CLOSE_TRY_AGAIN,
    unless_closed,
)
from rooms.presence.stores import socket_claim
from rooms.selectors import room_access

logger = logging.getLogger(__name__)

CLOSE_DONE = 1000  # the room is back: the page no longer needs this socket


class BanWatchConsumer(AsyncWebsocketConsumer):
    room = None
    group = None
    refresher = None

    async def __call__(self, scope, receive, send):
        await super().__call__(scope, receive, unless_closed(send))

    async def dispatch(self, message):
        """The user's group carries every event of the user (badges, sign-outs, bans):
        only a change of their rooms can be the unban this page waits for."""
        kind = message["type"]
        if kind.startswith("websocket."):
            await super().dispatch(message)
        elif kind == "rooms.changed":
            await self.check_ban()

    async def connect(self):
        user, slug = self.scope["user"], self.scope["url_route"]["kwargs"]["slug"]
        await self.accept()  # then close with a code: a refused handshake would hide why
        if not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        access = await in_db_thread(room_access)(slug=slug, user=user)
        if access is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # Counted like a room socket, though only until the claim expires (no presence
        # refreshes it): a banned user cannot open sockets without bound at once.
        if not await socket_claim(user_id=user.pk, channel_name=self.channel_name):
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.room, self.group = access.room, user_group(user.pk)
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
        except Exception:
            logger.warning("ban watch could not follow its group room=%s user=%s", slug, user)
            await self.close(code=CLOSE_TRY_AGAIN)  # the page reconnects
            return
        self.keep_following()
        await self.check_ban()  # now that it follows the group: lifted while the page loaded?

    def keep_following(self):
        """However long the page stays open (group_expiry) and whatever Redis does."""
        if hasattr(self.channel_layer, "on_recovery"):
            self.channel_layer.on_recovery(self)
        interval = getattr(self.channel_layer, "group_refresh_seconds", 0)
        if interval:
            self.refresher = asyncio.create_task(self.follow_every(interval))

    async def follow_every(self, seconds):
        while True:
            await asyncio.sleep(seconds)
            await self.follow()

    async def follow(self):
        try:
            await self.channel_layer.group_add(self.group, self.channel_name)
        except Exception:  # Redis is down: on_recovery calls layer_recovered
            logger.warning("ban watch could not rejoin its group=%s", self.group)
            return False
        return True

    async def layer_recovered(self):
        """An unban sent during the outage is lost: look the ban up again."""
        if await self.follow():
            await self.check_ban()

    async def check_ban(self):
        if self.room is None:
            return
        access = await in_db_thread(room_access)(slug=self.room.slug, user=self.scope["user"])
        if access is not None and access.can_read:
            await self.send_room_back()

    async def send_room_back(self):
        logger.info("ban lifted room=%s user=%s", self.room.slug, self.scope["user"])
        html = render_to_string("messages_app/partials/ban_lifted.html", {"room": self.room})
        self.room = None  # done: later events find nothing to check
        await self.send(text_data=html)
        await self.close(code=CLOSE_DONE)

    async def disconnect(self, code):
        if self.refresher is not None:
            self.refresher.cancel()
        if self.group is not None:
            try:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            except Exception:
                logger.warning("group_discard failed (it expires by itself) group=%s", self.group)
