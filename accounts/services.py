"""Account changes that reach the user's open pages: a socket must not outlive the
login it was opened with (the consumer closes it with 4401; see RoomConsumer)."""

import hashlib

from django.db import transaction

from accounts.models import Block
from config.realtime import user_send


def session_fingerprint(session_key):
    """A session key travels through Redis only as a hash of it."""
    return hashlib.sha256((session_key or "").encode()).hexdigest()


def user_session_end(*, user_id, session_key):
    """The user logged out of one session: that session's sockets close."""
    user_send(user_id, {"type": "session.ended", "session": session_fingerprint(session_key)})


def user_password_change(*, user_id):
    """The user's password changed (once that is committed): every socket whose session
    no longer logs in closes. The session that made the change stays logged in under a
    new key: its sockets reconnect, and their handshake reads the browser's new cookie."""
    transaction.on_commit(lambda: user_send(user_id, {"type": "password.changed"}))


def user_block(*, blocker, blocked):
    """`blocker` blocks `blocked` (once; blocking twice changes nothing)."""
    if blocker.pk == blocked.pk:
        raise ValueError("Nobody can block themselves.")
    Block.objects.get_or_create(blocker=blocker, blocked=blocked)


def user_unblock(*, blocker, blocked):
    Block.objects.filter(blocker=blocker, blocked=blocked).delete()
