"""The room socket: thin glue between a browser page and the message services."""

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string

from messages_app.broadcast import room_group
from messages_app.frames import FrameError, frame_too_large, parse_message_frame
from messages_app.services import MessageRejected, message_post
from rooms.selectors import room_access

logger = logging.getLogger(__name__)

# Close codes of the contract (design.md section 3). The handshake is accepted
# first so that the browser sees the code rather than a bare failed handshake.
CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_LARGE = 1009
CLOSE_TRY_AGAIN = 1011  # the htmx ws extension reconnects after this one

SEND_FAILED = "Your message could not be sent. Please try again in a moment."


def composer_errors_html(error=""):
    return render_to_string("messages_app/partials/composer_errors.html", {"error": error})


class RoomConsumer(AsyncWebsocketConsumer):
    group = None

    async def connect(self):
        await self.accept()
        self.user = self.scope["user"]
        slug = self.scope["url_route"]["kwargs"]["slug"]
        if not self.user.is_authenticated:
            await self.refuse(CLOSE_NOT_LOGGED_IN, slug)
            return
        access = await database_sync_to_async(room_access)(slug=slug, user=self.user)
        if access is None:
            await self.refuse(CLOSE_NOT_FOUND, slug)
            return
        if not access.is_member:
            await self.refuse(CLOSE_FORBIDDEN, slug)
            return
        self.room = access.room
        await self.join_room_group()

    async def refuse(self, code, slug):
        logger.info("socket refused room=%s user=%s code=%s", slug, self.user, code)
        await self.close(code=code)

    async def join_room_group(self):
        try:
            await self.channel_layer.group_add(room_group(self.room), self.channel_name)
        except Exception:
            logger.exception("socket could not join its group room=%s user=%s", self.room.slug, self.user)
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        self.group = room_group(self.room)
        logger.info("socket connected room=%s user=%s", self.room.slug, self.user.username)

    async def disconnect(self, code):
        if self.group is None:
            return
        try:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        except Exception:
            # The group entry expires by itself; nothing else to clean up.
            logger.warning("group_discard failed room=%s user=%s", self.room.slug, self.user.username)
        logger.info("socket disconnected room=%s user=%s code=%s", self.room.slug, self.user.username, code)

    async def receive(self, text_data=None, bytes_data=None):
        if self.group is None:
            return  # a frame that raced a refusal
        if text_data is None:
            await self.send_error("Send text, not binary data.")
            return
        if frame_too_large(text_data):
            await self.close(code=CLOSE_TOO_LARGE)
            return
        logger.info(
            "socket receive room=%s user=%s bytes=%d", self.room.slug, self.user.username, len(text_data)
        )
        try:
            body = parse_message_frame(text_data)
            await database_sync_to_async(message_post)(room=self.room, author=self.user, body=body)
        except (FrameError, MessageRejected) as refusal:
            await self.send_error(str(refusal))
        except Exception:
            logger.exception("message_post failed room=%s user=%s", self.room.slug, self.user.username)
            await self.send_error(SEND_FAILED)
        else:
            await self.send(text_data=composer_errors_html())

    async def send_error(self, error):
        await self.send(text_data=composer_errors_html(error))

    async def chat_html(self, event):
        """A fragment rendered once by message_broadcast, relayed as it is."""
        await self.send(text_data=event["html"])
