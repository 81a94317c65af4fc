"""Write-side rules for rooms: creating, joining and leaving.

Every entry point (views, admin, management commands, tests) calls these, so a
rule lives in exactly one place.
"""

import logging

from django.db import IntegrityError, transaction
from django.utils.text import slugify

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
    except IntegrityError:  # a double click raced us: the other request joined
        return Membership.objects.get(room=room, user=user)
    logger.info("room joined room=%s user=%s", room.slug, user.username)
    return membership


def room_leave(*, room, user):
    """Leave a room. A ban stays on record, so leaving does not erase it."""
    deleted, _ = Membership.objects.filter(room=room, user=user, banned_at__isnull=True).delete()
    if deleted:
        logger.info("room left room=%s user=%s", room.slug, user.username)
