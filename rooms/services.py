"""Write-side rules for rooms: creating, renaming, joining, leaving and invitations.

Every entry point (views, admin, management commands, tests) calls these, so a
rule lives in exactly one place.
"""

import logging
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from config.realtime import user_send
from rooms.models import Invitation, Membership, Room
from rooms.presence.roster import member_list_broadcast
from rooms.selectors import membership_get_active

logger = logging.getLogger(__name__)


class RoomError(Exception):
    """A room action the rules refuse; its text is shown to the user."""


class RoomPermissionDenied(RoomError):
    """The user may see the room but not do this in it (only owners and moderators may)."""


class InvitationGone(RoomError):
    """The invite link was revoked or has expired."""


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


def _require_moderator(*, room, user):
    """The user's membership if they are an owner or moderator of the room."""
    membership = membership_get_active(room=room, user=user)
    if membership is None or not membership.can_moderate:
        raise RoomPermissionDenied("Only the room's owners and moderators can invite people.")
    return membership


def _user_named(username):
    """The user with this username (a leading @ and the letter case do not matter)."""
    username = (username or "").strip().removeprefix("@")
    if not username:
        raise RoomError("Enter the username of the person to invite.")
    candidates = list(get_user_model().objects.filter(username__iexact=username)[:2])
    exact = [user for user in candidates if user.username == username]
    if exact or len(candidates) == 1:
        return (exact or candidates)[0]
    raise RoomError(f"There is no user named “{username}”.")


def _refusal_for_existing(membership):
    name = membership.user.username
    if membership.is_banned:
        return f"{name} is banned from this room; an invitation does not lift a ban."
    return f"{name} is already a member of this room."


def room_invite(*, room, invited_by, username):
    """An owner or moderator adds a user to the room at once (private rooms
    included). A ban is never lifted this way. The invitee's open pages get the
    room in their sidebar with a notice to accept or decline, and the room's pages
    the new member list."""
    _require_moderator(room=room, user=invited_by)
    invitee = _user_named(username)
    existing = Membership.objects.filter(room=room, user=invitee).select_related("user").first()
    if existing is not None:
        raise RoomError(_refusal_for_existing(existing))
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                room=room, user=invitee, invited_by=invited_by, invitation_pending=True
            )
            transaction.on_commit(lambda: _rooms_changed(invitee))
            transaction.on_commit(lambda: member_list_broadcast(room=room))
    except IntegrityError:  # joined, or was invited by someone else, meanwhile
        existing = Membership.objects.select_related("user").get(room=room, user=invitee)
        raise RoomError(_refusal_for_existing(existing)) from None
    logger.info("room invite room=%s by=%s user=%s", room.slug, invited_by.username, invitee.username)
    return membership


def room_invitation_accept(*, room, user):
    """The invitee keeps the room: the notice goes, in every tab of theirs. Accepting
    twice, or without an invitation, changes nothing."""
    if Membership.objects.filter(room=room, user=user, invitation_pending=True).update(
        invitation_pending=False
    ):
        logger.info("room invitation accepted room=%s user=%s", room.slug, user.username)
        transaction.on_commit(lambda: _rooms_changed(user))


def room_invitation_decline(*, room, user):
    """The invitee does not want the room: they leave it. Only a pending invitation
    is declined this way, never a membership they accepted or a ban."""
    deleted, _ = Membership.objects.filter(
        room=room, user=user, invitation_pending=True, banned_at__isnull=True
    ).delete()
    if deleted:
        logger.info("room invitation declined room=%s user=%s", room.slug, user.username)
        transaction.on_commit(lambda: _rooms_changed(user))
        transaction.on_commit(lambda: member_list_broadcast(room=room))


def invitation_create(*, room, created_by, expires_in=None):
    """A new invite link to the room: for ever, or for `expires_in` (a timedelta)."""
    _require_moderator(room=room, user=created_by)
    if expires_in is not None and expires_in <= timedelta(0):
        raise RoomError("An invite link cannot expire before it is made.")
    now = timezone.now()
    invitation = Invitation.objects.create(
        room=room,
        created_by=created_by,
        created_at=now,
        expires_at=now + expires_in if expires_in is not None else None,
    )
    logger.info("invitation created room=%s by=%s id=%s", room.slug, created_by.username, invitation.pk)
    return invitation


def invitation_revoke(*, invitation, revoked_by):
    """Turn an invite link off for good. Revoking twice changes nothing."""
    _require_moderator(room=invitation.room, user=revoked_by)
    now = timezone.now()
    if Invitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).update(revoked_at=now):
        invitation.revoked_at = now
        logger.info(
            "invitation revoked room=%s by=%s id=%s", invitation.room.slug, revoked_by.username, invitation.pk
        )
    return invitation


@transaction.atomic
def invitation_accept(*, invitation, user):
    """Join a room through an invite link. A member stays as they are and a ban
    stands. InvitationGone when the link was revoked or expired meanwhile."""
    # Locking the link orders a double click's two requests, and races a revoke.
    if not Invitation.objects.active().select_for_update().filter(pk=invitation.pk).exists():
        raise InvitationGone("This invite link is no longer valid.")
    existing = Membership.objects.filter(room_id=invitation.room_id, user=user).first()
    if existing is not None and existing.is_banned:
        raise RoomError("You are banned from this room.")
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            membership = Membership.objects.create(room_id=invitation.room_id, user=user)
    except IntegrityError:  # joined another way (another link, the Join button) meanwhile
        return Membership.objects.get(room_id=invitation.room_id, user=user)
    Invitation.objects.filter(pk=invitation.pk).update(use_count=F("use_count") + 1)
    transaction.on_commit(lambda: _rooms_changed(user))
    transaction.on_commit(lambda: member_list_broadcast(room=invitation.room))
    logger.info("invitation accepted room_id=%s user=%s", invitation.room_id, user.username)
    return membership


@transaction.atomic
def room_rename(*, room, actor, name):
    """An owner renames the room; its slug (and so its address) stays. Every member's
    open pages show the new name in their sidebar once this commits."""
    membership = membership_get_active(room=room, user=actor)
    if membership is None or membership.role != Membership.Role.OWNER:
        raise RoomPermissionDenied("Only the room's owners can rename it.")
    name = (name or "").strip()
    if not name:
        raise RoomError("A room needs a name.")
    max_length = Room._meta.get_field("name").max_length
    if len(name) > max_length:
        raise RoomError(f"A room's name has at most {max_length} characters.")
    if name != room.name:
        room.name = name
        room.save(update_fields=["name"])
        logger.info("room renamed room=%s user=%s", room.slug, actor.username)
        room_members_notify_changed(room)
    return room


def room_members_notify_changed(room):
    """Once the current transaction commits, every member's open pages (any room, the
    directory) re-read their rooms: call it after changing what a sidebar shows of a
    room (its name, its privacy) for all its members at once."""
    member_ids = list(room.memberships.filter(banned_at__isnull=True).values_list("user_id", flat=True))

    def notify():
        for user_id in member_ids:
            user_send(user_id, {"type": "rooms.changed"})

    transaction.on_commit(notify)


def _rooms_changed(user):
    """The user's open pages follow their rooms (badges of a room joined in another tab)."""
    user_send(user.pk, {"type": "rooms.changed"})
