"""The socket of a page that shows the user's rooms but no room of theirs: the home
page, and the page of a public room they only read. It follows the user's group
(joins, leaves, invitations, renames, bans, sign-out) and their rooms' badge
groups, and sends the page its lists again when they change. It reads nothing
from the browser: there is no room to post in."""

import asyncio
import logging

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.utils import timezone

from config.db_threads import in_db_thread
from config.realtime import room_members_group, user_group
from messages_app.broadcast import page_notice_for
from messages_app.consumers import (
    CLOSE_NOT_LOGGED_IN,
    CLOSE_TOO_MANY_SOCKETS,
    CLOSE_TRY_AGAIN,
    RoomConsumer,
    _sidebar,
    unless_closed,
)
from messages_app.sidebar import home_html, room_link_html, sidebar_html
from rooms.presence.stores import presence_ttl, socket_claim, socket_release

logger = logging.getLogger(__name__)


class UserConsumer(AsyncWebsocketConsumer):
    """The room page's sidebar (room_links.html), kept live for a reader of the room."""

    groups_joined = ()
    group_refresher = None
    claim_keeper = None
    claimed = False
    home = False
    sidebar_through = 0  # the sidebar's counts include the messages up to this id

    async def __call__(self, scope, receive, send):
        await super().__call__(scope, receive, unless_closed(send))

    async def dispatch(self, message):
        # As RoomConsumer.dispatch: every query runs through in_db_thread.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        self.user = self.scope["user"]
        if not self.user.is_authenticated:
            await self.accept()  # then close: a refused handshake would hide the reason
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        # It counts towards CHAT_MAX_SOCKETS_PER_USER like a room's socket.
        if not await socket_claim(user_id=self.user.pk, channel_name=self.channel_name):
            await self.accept()
            await self.close(code=CLOSE_TOO_MANY_SOCKETS)
            return
        self.claimed = True
        self.claim_keeper = asyncio.create_task(self.keep_claim())
        # The user's group first, then read their rooms: a change in between is heard,
        # not lost. Accept only once subscribed, as a room's socket does.
        self.sidebar = {}
        if not await self.follow_groups():
            await self.refuse_for_now()
            return
        self.sidebar, self.sidebar_through = await in_db_thread(_sidebar)(self.user)
        if not await self.follow_groups():
            await self.refuse_for_now()
            return
        await self.accept()
        if hasattr(self.channel_layer, "on_recovery"):
            self.channel_layer.on_recovery(self)
        interval = getattr(self.channel_layer, "group_refresh_seconds", 0)
        if interval:
            self.group_refresher = asyncio.create_task(self.rejoin_groups_every(interval))
        logger.info("user socket connected user=%s home=%s", self.user.username, self.home)
        # The page may have been rendered before a change this socket was not there to hear.
        await self.send_lists()

    async def refuse_for_now(self):
        """The layer is down: close with 1011, after which the ws extension reconnects."""
        await self.accept()
        await self.close(code=CLOSE_TRY_AGAIN)

    def wanted_groups(self):
        return {user_group(self.user.pk), *(room_members_group(room_id) for room_id in self.sidebar)}

    async def follow_groups(self, *, renew=False):
        """Follow exactly the user's group and their rooms' badge groups (`renew`
        joins the followed ones again, restarting their group_expiry)."""
        wanted, joined = self.wanted_groups(), set(self.groups_joined)
        try:
            for group in wanted if renew else wanted - joined:
                await self.channel_layer.group_add(group, self.channel_name)
            for group in joined - wanted:
                await self.channel_layer.group_discard(group, self.channel_name)
        except Exception:
            logger.exception("user socket could not join its groups user=%s", self.user.username)
            self.groups_joined = tuple(joined | wanted)
            return False
        self.groups_joined = tuple(wanted)
        return True

    async def rejoin_groups_every(self, seconds):
        while True:
            await asyncio.sleep(seconds)
            await self.follow_groups(renew=True)

    async def layer_recovered(self):
        """Redis came back: follow the groups again, and show what changed meanwhile."""
        await self.rooms_changed({})

    async def keep_claim(self):
        """A room socket's presence refresh keeps its claim alive; this socket has none."""
        while True:
            await asyncio.sleep(presence_ttl() / 3)
            await socket_claim(user_id=self.user.pk, channel_name=self.channel_name)

    async def disconnect(self, code):
        for task in (self.group_refresher, self.claim_keeper):
            if task is not None:
                task.cancel()
        if self.claimed:
            await socket_release(user_id=self.user.pk, channel_name=self.channel_name)
        try:
            for group in self.groups_joined:
                await self.channel_layer.group_discard(group, self.channel_name)
        except Exception:
            logger.warning("group_discard failed user=%s", self.user)

    async def receive(self, text_data=None, bytes_data=None):
        """Nothing to do: sync.js may send read marks over any open socket."""

    # --- events from the channel layer ---------------------------------------------

    async def lists_html(self):
        return sidebar_html(memberships=self.sidebar.values())

    async def send_lists(self):
        await self.send(text_data=await self.lists_html())

    async def rooms_changed(self, event):
        """Joined, left, invited, answered an invitation, a room renamed: read them again."""
        self.sidebar, self.sidebar_through = await in_db_thread(_sidebar)(self.user)
        if not await self.follow_groups():
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        await self.send_lists()

    async def room_banned(self, event):
        await self.rooms_changed(event)

    async def room_activity(self, event):
        """A message in one of the user's rooms: bump its badge."""
        membership = self.sidebar.get(event["room_id"])
        if membership is None or event["author_id"] == self.user.pk:
            return
        if event["message_id"] > self.sidebar_through:  # not counted by the read already
            membership.unread_count += 1
            membership.unread_mentions += self.user.pk in event["mentions"]
        if notice := page_notice_for(event, user_id=self.user.pk, room=membership.room):
            await self.send(text_data=notice)
        membership.last_activity = timezone.now()
        if membership.room.is_direct and not self.home:  # the latest conversation goes first
            await self.send_lists()
            return
        await self.send(text_data=room_link_html(membership, home=self.home))

    async def room_read(self, event):
        """The user read a room in another tab: clear its badge."""
        membership = self.sidebar.get(event["room_id"])
        if membership is None:
            return
        membership.unread_count = membership.unread_mentions = 0
        await self.send(text_data=room_link_html(membership, home=self.home))

    # Sign-out and password changes close this socket as they close a room's.
    session_ended = RoomConsumer.session_ended
    password_changed = RoomConsumer.password_changed
    session_state = RoomConsumer.session_state

    async def close_signed_out(self):
        """No composer to replace with a notice here: the next click goes to the login page."""
        logger.info("user socket closed by sign-out user=%s", self.user.username)
        await self.close(code=CLOSE_NOT_LOGGED_IN)


class HomeConsumer(UserConsumer):
    """The home page's invitations, my rooms (cards) and rooms to discover, kept live."""

    home = True

    async def lists_html(self):
        return await in_db_thread(home_html)(user=self.user, memberships=self.sidebar.values())


class PeopleConsumer(UserConsumer):
    """The people pages' socket: it shows no rooms, but counts as the user being online
    (its socket claim, rooms/presence/stores.py presence_online), and closes on sign-out
    like the others. It follows the user's group only and sends nothing."""

    def wanted_groups(self):
        return {user_group(self.user.pk)}

    async def send_lists(self):
        """No lists on these pages."""

    async def room_read(self, event):
        """No badges on these pages."""
