"""Write-side rules for rooms: creating, joining and leaving.

Every entry point (views, admin, management commands, tests) calls these, so a
rule lives in exactly one place.
"""

import logging

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.text import slugify

from messages_app.broadcast import user_read_broadcast, user_send
from messages_app.models import Message
from rooms.models import Membership, Room

logger = logging.getLogger(__name__)


class RoomError(Exception):
    """A room action the rules refuse; its text is shown to the user."""


# Slugs that would shadow a fixed URL under /rooms/.
RESERVED_SLUGS = {"new"}


def _unique_slug(name):
    base = slugify(name)[:90] or "room"
    slug, suffix = base, 2
    while slug in RESERVED_SLUGS or Room.objects.filter(slug=slug).exists():
        slug = f"{base}-{suffix}"
        suffix += 1
    return slug


@transaction.atomic
def room_create(*, name, created_by, topic="", is_private=False):
    """Create a room; its creator becomes its owner."""
    name = name.strip()
    if not name:
        raise RoomError("A room needs a name.")
    room = Room.objects.create(
        name=name,
        slug=_unique_slug(name),
        topic=topic.strip(),
        is_private=is_private,
        created_by=created_by,
    )
    Membership.objects.create(room=room, user=created_by, role=Membership.Role.OWNER)
    logger.info("room created room=%s user=%s private=%s", room.slug, created_by.username, is_private)
    return room


def room_join(*, room, user):
    """Join a public room. Private rooms are joined by invitation only, and a
    ban is never lifted by joining again."""
    membership = Membership.objects.filter(room=room, user=user).first()
    if membership is not None:
        if membership.is_banned:
            raise RoomError("You are banned from this room.")
        return membership
    if room.is_private:
        raise RoomError("This room is by invitation only.")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(room=room, user=user)
            transaction.on_commit(lambda: _rooms_changed(user))
    except IntegrityError:  # a double click raced us: the other request joined
        return Membership.objects.get(room=room, user=user)
    logger.info("room joined room=%s user=%s", room.slug, user.username)
    return membership


def room_leave(*, room, user):
    """Leave a room. A ban stays on record, so leaving does not erase it."""
    deleted, _ = Membership.objects.filter(room=room, user=user, banned_at__isnull=True).delete()
    if deleted:
        logger.info("room left room=%s user=%s", room.slug, user.username)
        transaction.on_commit(lambda: _rooms_changed(user))


def _rooms_changed(user):
    """The user's open pages follow their rooms (badges of a room joined in another tab)."""
    user_send(user.pk, {"type": "rooms.changed"})


def membership_mark_read(*, room, user, message_id):
    """Mark the room read up to a message (never backwards, never past the room's
    real messages), and clear its badge in every tab of the user. Returns the id
    now marked read, or None when nothing changed."""
    newest = (
        Message.objects.filter(room=room, id__lte=message_id).order_by("-id").values_list("id", flat=True)
    )
    read_id = newest.first()
    if read_id is None:
        return None
    updated = (
        Membership.objects.filter(room=room, user=user, banned_at__isnull=True)
        .filter(Q(last_read_message_id__isnull=True) | Q(last_read_message_id__lt=read_id))
        .update(last_read_message_id=read_id)
    )
    if not updated:
        return None
    transaction.on_commit(lambda: user_read_broadcast(user_id=user.pk, room_id=room.pk, message_id=read_id))
    return read_id
