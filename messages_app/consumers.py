"""The room socket: thin glue between a browser page and the services."""

import asyncio
import functools
import logging

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer
from django.template.loader import render_to_string

from accounts.selectors import SESSION_ENDED, SESSION_OUTDATED, session_login_state
from accounts.services import session_fingerprint
from config.db_threads import in_db_thread
from config.realtime import room_group, room_members_group, user_group
from messages_app.broadcast import page_notice_for
from messages_app.frames import FrameError, frame_too_large, parse_frame
from messages_app.selectors import membership_list_for_user, newest_message_id
from messages_app.services import (
    MessageRejected,
    membership_mark_read,
    message_delete,
    message_edit,
    message_post,
    reaction_toggle,
)
from rooms.presence.sockets import SocketPresence
from rooms.presence.stores import socket_claim
from rooms.selectors import room_for_socket

logger = logging.getLogger(__name__)

try:  # what uvicorn raises when a consumer writes to a socket that has closed
    from uvicorn.protocols.utils import ClientDisconnected as ClientGone
except ImportError:  # another ASGI server

    class ClientGone(Exception):
        pass


# ...and what it raises while the socket is half closed (the server sent its close frame,
# the browser has not answered yet).
HALF_CLOSED = "after sending 'websocket.close'"


# Close codes of the contract (design.md section 3). The handshake is accepted
# first so that the browser sees the code rather than a bare failed handshake.
CLOSE_NOT_LOGGED_IN = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_TOO_LARGE = 1009
CLOSE_TRY_AGAIN = 1011  # the htmx ws extension reconnects after this one
CLOSE_TOO_MANY_SOCKETS = 4429  # the user already holds CHAT_MAX_SOCKETS_PER_USER sockets
CLOSE_RECONNECT = 1012  # reconnected too: the new handshake reads the browser's current cookie
# A password change re-signs the changing session just after saving the user: a socket of
# that session may hear of the change first, so an outdated session gets a second look.
PASSWORD_RECHECK_SECONDS = 1

SEND_FAILED = "That did not work. Please try again in a moment."
# A socket opened with a read-scoped API token (scope["read_only"]) may only mark read.
READ_ONLY_ACTIONS = {"read"}
READ_ONLY_REFUSAL = "This token's scope is read: it cannot write."
# Frames from one browser waiting behind the one being handled; past this, the socket
# stops reading (backpressure) instead of queueing without bound.
MAX_QUEUED_FRAMES = 16


def composer_errors_html(error=""):
    return render_to_string("messages_app/partials/composer_errors.html", {"error": error})


@functools.cache
def composer_cleared_html():
    """The answer to every saved message: the same fragment each time, rendered once."""
    return composer_errors_html()


@functools.cache
def typing_region_html():
    """An empty #typing, sent by each new socket: its page may show lines of a socket before."""
    return render_to_string("rooms/partials/typing_region.html", {"oob": True})


@functools.lru_cache(maxsize=1024)
def typing_gone_html(user_id):
    """Takes a person's typing line away; the same few bytes each time, rendered once."""
    return render_to_string("rooms/partials/typing_gone.html", {"user_id": user_id})


def _sidebar(user, through_message_id=None):
    """{room id: membership} with unread counts through a message (by default the newest
    now), and that message's id: the socket adds the room.activity events of later
    messages and skips those already counted (an event may arrive after the read)."""
    if through_message_id is None:
        through_message_id = newest_message_id()
    memberships = membership_list_for_user(user=user, through_message_id=through_message_id)
    return {membership.room_id: membership for membership in memberships}, through_message_id


def unless_closed(send):
    """The socket may close (the server refused an oversized frame, the user signed out)
    while one of its frames is still being answered: that answer has nowhere to go."""

    async def send_unless_closed(message):
        try:
            await send(message)
        except ClientGone:
            pass
        except RuntimeError as error:
            if HALF_CLOSED not in str(error):
                raise

    return send_unless_closed


class RoomConsumer(AsyncWebsocketConsumer):
    room = None
    groups_joined = ()
    presence = None
    group_refresher = None
    roster_version = -1  # of the newest "Here now" roster this socket sent
    sidebar = None  # {room id: membership with unread counts}, read on first need
    sidebar_through = 0  # the sidebar's counts include the messages up to this id

    async def __call__(self, scope, receive, send):
        await super().__call__(scope, receive, unless_closed(send))

    async def dispatch(self, message):
        """Channels' own dispatch first closes stale database connections on the
        process's one sync thread: a thread hop for every frame relayed to every
        recipient. This consumer's queries all run through in_db_thread, which closes
        them itself, so it calls the handler directly (docs/performance.md)."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self):
        self.frames_in_hand = set()
        self.frame_turn = asyncio.Lock()
        self.typists = {}  # user id -> is their line showing? (a line once added stays in the page)
        self.user = self.scope["user"]
        slug = self.scope["url_route"]["kwargs"]["slug"]
        if not self.user.is_authenticated:
            await self.refuse(CLOSE_NOT_LOGGED_IN, slug, notice="signed_out")
            return
        room = await in_db_thread(room_for_socket)(slug=slug, user=self.user)
        if room is None:
            await self.refuse(CLOSE_NOT_FOUND, slug)
            return
        if not room.is_member:
            await self.refuse(CLOSE_FORBIDDEN, slug)
            return
        if not await socket_claim(user_id=self.user.pk, channel_name=self.channel_name):
            await self.refuse(CLOSE_TOO_MANY_SOCKETS, slug, notice="too_many_sockets")
            return
        self.room = room
        self.other_room_ids = set(room.other_room_ids)
        # Accept only once subscribed: an open socket never misses a broadcast.
        if not await self.follow_groups(self.wanted_groups()):
            await self.refuse(CLOSE_TRY_AGAIN, slug)
            return
        await self.accept()
        logger.info("socket connected room=%s user=%s", self.room.slug, self.user.username)
        self.stay_subscribed()
        await self.send(text_data=typing_region_html())
        self.presence = SocketPresence(room=self.room, user=self.user, channel_name=self.channel_name)
        await self.presence.enter(self.room_presence)

    async def refuse(self, code, slug, notice=None):
        """Accept, then close with the code: a refused handshake would hide the reason."""
        logger.info("socket refused room=%s user=%s code=%s", slug, self.user, code)
        await self.accept()
        if notice:
            await self.send_closed_notice(notice)
        await self.close(code=code)

    async def send_closed_notice(self, reason):
        """Why the socket closes, in place of the composer (the page will not reconnect)."""
        html = render_to_string("messages_app/partials/socket_closed_notice.html", {"reason": reason})
        await self.send(text_data=html)

    def wanted_groups(self):
        """This room's page group, the user's own group, and the badge groups of
        the user's other rooms."""
        others = [room_members_group(room_id) for room_id in self.other_room_ids]
        return {room_group(self.room), user_group(self.user.pk), *others}

    async def follow_groups(self, wanted, *, renew=False):
        """Join and leave groups so that exactly `wanted` are followed; `renew` joins
        the groups already followed again too (which restarts their group_expiry)."""
        joined = set(self.groups_joined)
        to_join = wanted if renew else wanted - joined
        try:
            await asyncio.gather(*(self.channel_layer.group_add(g, self.channel_name) for g in to_join))
            await asyncio.gather(
                *(self.channel_layer.group_discard(g, self.channel_name) for g in joined - wanted)
            )
        except Exception:
            logger.exception("socket could not join its groups room=%s user=%s", self.room.slug, self.user)
            self.groups_joined = tuple(joined | wanted)
            return False
        self.groups_joined = tuple(wanted)
        return True

    def stay_subscribed(self):
        """Keep receiving however long the page stays open and whatever Redis does:
        rejoin the groups well within group_expiry, and at once when the layer
        recovers from an outage (Redis may have restarted without our groups)."""
        if hasattr(self.channel_layer, "on_recovery"):
            self.channel_layer.on_recovery(self)
        interval = getattr(self.channel_layer, "group_refresh_seconds", 0)
        if interval:
            self.group_refresher = asyncio.create_task(self.rejoin_groups_every(interval))

    async def rejoin_groups_every(self, seconds):
        while True:
            await asyncio.sleep(seconds)
            await self.rejoin_groups()

    async def rejoin_groups(self):
        # groups_joined stays set meanwhile: receive() ignores frames while it is empty.
        return await self.follow_groups(self.wanted_groups(), renew=True)

    async def layer_recovered(self):
        """Frames may have been lost during the outage: the page catches up from Postgres."""
        if await self.rejoin_groups():
            await self.send(text_data=render_to_string("messages_app/partials/catch_up_nudge.html"))

    async def disconnect(self, code):
        if self.room is None:
            return
        # The browser may have closed right after sending: its frames are still saved.
        await asyncio.gather(*self.frames_in_hand, return_exceptions=True)
        if self.group_refresher is not None:
            self.group_refresher.cancel()
        try:
            await asyncio.gather(
                *(self.channel_layer.group_discard(g, self.channel_name) for g in self.groups_joined)
            )
        except Exception:
            # Group entries expire by themselves; nothing else to clean up.
            logger.warning("group_discard failed room=%s user=%s", self.room.slug, self.user.username)
        if self.presence is not None:
            await self.presence.leave()
        logger.info("socket disconnected room=%s user=%s code=%s", self.room.slug, self.user.username, code)

    # --- frames from the browser ---------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        """Handle the frame in a task of its own, so that while a message is saved this
        socket still gets the room's frames; frames of one socket are handled one at a
        time, in the order they came (a user's messages keep their order)."""
        task = asyncio.create_task(self.handle_in_turn(text_data, bytes_data))
        self.frames_in_hand.add(task)
        task.add_done_callback(self.frames_in_hand.discard)
        if len(self.frames_in_hand) > MAX_QUEUED_FRAMES:
            await task

    async def handle_in_turn(self, text_data, bytes_data):
        async with self.frame_turn:
            await self.handle_frame(text_data, bytes_data)

    async def handle_frame(self, text_data, bytes_data):
        if not self.groups_joined:
            return  # a frame that raced a refusal
        if text_data is None:
            await self.send_error("Send text, not binary data.")
            return
        if frame_too_large(text_data):
            await self.close(code=CLOSE_TOO_LARGE)
            return
        logger.debug(
            "socket receive room=%s user=%s bytes=%d", self.room.slug, self.user.username, len(text_data)
        )
        try:
            frame = parse_frame(text_data)
            if self.scope.get("read_only") and frame.action not in READ_ONLY_ACTIONS:
                await self.send_error(READ_ONLY_REFUSAL)
                return
            await getattr(self, f"do_{frame.action}")(frame)
        except (FrameError, MessageRejected) as refusal:
            await self.send_error(str(refusal))
        except Exception:
            logger.exception("socket action failed room=%s user=%s", self.room.slug, self.user.username)
            await self.send_error(SEND_FAILED)

    async def do_post(self, frame):
        message = await in_db_thread(message_post)(
            room=self.room,
            author=self.user,
            body=frame.body,
            client_id=frame.client_id,
            reply_to=frame.reply_to,
        )
        if not getattr(message, "broadcast_ok", True):  # the layer is down: the sender still sees it
            context = {"message": message, "room": self.room}
            await self.send(text_data=render_to_string("messages_app/partials/message_oob.html", context))
        await self.send(text_data=composer_cleared_html())

    async def do_edit(self, frame):
        await in_db_thread(message_edit)(
            room=self.room, user=self.user, message_id=frame.message_id, body=frame.body
        )

    async def do_delete(self, frame):
        await in_db_thread(message_delete)(room=self.room, user=self.user, message_id=frame.message_id)

    async def do_read(self, frame):
        await in_db_thread(membership_mark_read)(room=self.room, user=self.user, message_id=frame.message_id)

    async def do_react(self, frame):
        await in_db_thread(reaction_toggle)(
            room=self.room, user=self.user, message_id=frame.message_id, emoji=frame.emoji
        )

    async def do_typing(self, frame):
        await self.presence.typing()

    async def send_error(self, error):
        await self.send(text_data=composer_errors_html(error))

    # --- events from the channel layer ---------------------------------------------

    async def chat_html(self, event):
        """A fragment rendered once by a broadcast, relayed as it is; a new message
        also ends its author's typing line, if this page shows one."""
        await self.send(text_data=event["html"])
        author_id = event.get("author_id")
        if self.typists.get(author_id):
            self.typists[author_id] = False
            await self.send(text_data=typing_gone_html(author_id))

    async def room_presence(self, event):
        """Who is here now. Rosters from several server processes may arrive out of
        order: one older than the last sent would show people gone or not yet come."""
        if event["version"] <= self.roster_version:
            return
        self.roster_version = event["version"]
        await self.send(text_data=event["html"])

    async def room_typing(self, event):
        """Someone else is typing: add their line, or replace it (which restarts its fade)."""
        typist = event["user_id"]
        if typist == self.user.pk:
            return
        shown_before = typist in self.typists
        self.typists[typist] = True
        await self.send(text_data=event["replace" if shown_before else "append"])

    async def sidebar_loaded(self, *, through_message_id=None):
        """The user's rooms with their unread counts, read on first need rather than by
        every handshake (most sockets never need them). Read for an event, the counts
        include that event's message (committed before it was sent)."""
        if self.sidebar is None:
            self.sidebar_reloaded(*await in_db_thread(_sidebar)(self.user, through_message_id))
        return self.sidebar

    def sidebar_reloaded(self, sidebar, through_message_id):
        self.sidebar, self.sidebar_through = sidebar, through_message_id
        self.other_room_ids = set(sidebar) - {self.room.pk}

    async def room_activity(self, event):
        """A message in another of the user's rooms: bump that room's badge."""
        if event["room_id"] == self.room.pk or event["author_id"] == self.user.pk:
            return
        sidebar = await self.sidebar_loaded(through_message_id=event["message_id"])
        membership = sidebar.get(event["room_id"])
        if membership is None:
            return
        if event["message_id"] > self.sidebar_through:  # not counted by the read already
            membership.unread_count += 1
            membership.unread_mentions += self.user.pk in event["mentions"]
        if notice := page_notice_for(event, user_id=self.user.pk, room=membership.room):
            await self.send(text_data=notice)
        await self.send_room_link(membership)

    async def room_read(self, event):
        """The user read a room (in this tab or another): clear its badge. Not this
        page's own room: its link shows no badge here (opening the room marked it read,
        and room_activity skips it), and a page that joined the room in place (htmx)
        has no link for it to update (htmx:oobErrorNoTarget)."""
        if event["room_id"] == self.room.pk:
            return
        membership = (await self.sidebar_loaded()).get(event["room_id"])
        if membership is None:
            return
        membership.unread_count = membership.unread_mentions = 0
        await self.send_room_link(membership)

    async def rooms_changed(self, event):
        """The user joined or left a room elsewhere: follow the new set of rooms."""
        self.sidebar_reloaded(*await in_db_thread(_sidebar)(self.user))
        if not await self.follow_groups(self.wanted_groups()):
            await self.close(code=CLOSE_TRY_AGAIN)
            return
        context = {"memberships": self.sidebar.values(), "current": self.room, "oob": True}
        await self.send(text_data=render_to_string("rooms/partials/room_links.html", context))

    async def room_banned(self, event):
        """The user was banned: from this room, the page says why in place of the room
        (banned_notice.html) and the socket closes with 4403; from another room, it
        leaves the sidebar."""
        if event["room_id"] != self.room.pk:
            await self.rooms_changed(event)
            return
        self.sidebar_reloaded(*await in_db_thread(_sidebar)(self.user))
        context = {
            "room": self.room,
            "reason": event.get("reason", ""),
            "memberships": self.sidebar.values(),
            "current": self.room,
        }
        await self.send(text_data=render_to_string("messages_app/partials/banned_notice.html", context))
        logger.info("socket closed by ban room=%s user=%s", self.room.slug, self.user.username)
        await self.close(code=CLOSE_FORBIDDEN)

    async def room_deleted(self, event):
        """The owner deleted the room: the page says so, and the socket closes (4404,
        which the page does not reconnect after: the room is no more)."""
        await self.send(text_data=event["html"])
        logger.info("socket closed by room deletion room=%s user=%s", self.room.slug, self.user.username)
        await self.close(code=CLOSE_NOT_FOUND)

    async def session_ended(self, event):
        """The user logged out: the sockets of that session close with 4401."""
        if event["session"] == session_fingerprint(self.scope["session"].session_key):
            await self.close_signed_out()

    async def password_changed(self, event):
        """The user's password changed: sessions signed with the old one no longer log in
        (4401). The session that made the change got a new key, and the browser a new
        cookie: that socket reconnects (1012) and its handshake logs in with the new one."""
        state = await self.session_state()
        if state == SESSION_OUTDATED:
            await asyncio.sleep(PASSWORD_RECHECK_SECONDS)
            state = await self.session_state()
        if state == SESSION_OUTDATED:
            await self.close_signed_out()
        elif state == SESSION_ENDED:
            await self.close(code=CLOSE_RECONNECT)

    async def session_state(self):
        session = {"session_key": self.scope["session"].session_key, "user_id": self.user.pk}
        return await in_db_thread(session_login_state)(**session)

    async def close_signed_out(self):
        logger.info("socket closed by sign-out room=%s user=%s", self.room.slug, self.user.username)
        await self.send_closed_notice("signed_out")
        await self.close(code=CLOSE_NOT_LOGGED_IN)

    async def send_room_link(self, membership):
        html = render_to_string(
            "rooms/partials/room_link.html", {"membership": membership, "current": self.room, "oob": True}
        )
        await self.send(text_data=html)
