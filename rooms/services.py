"""Write-side rules for rooms: creating, joining, leaving, invitations, and the
owner's settings (rename, topic, privacy, archive, delete).

Every entry point (views, admin, management commands, tests) calls these, so a
rule lives in exactly one place.
"""

import logging
import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Block
from config.realtime import room_broadcast_html, room_send, user_send
from rooms.models import Invitation, Membership, Room
from rooms.presence.roster import member_list_broadcast
from rooms.selectors import membership_get_active
from rooms.signals import member_invited, room_signal_send

logger = logging.getLogger(__name__)


class RoomError(Exception):
    """A room action the rules refuse; its text is shown to the user."""


class RoomPermissionDenied(RoomError):
    """The user may see the room but not do this in it (only owners and moderators may)."""


class InvitationGone(RoomError):
    """The invite link was revoked or has expired."""


class DirectBlocked(RoomError):
    """A block stands between the people of a direct conversation."""


DIRECT_REFUSED = "Direct conversations have only their people: nobody joins or is invited."


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
    if room.is_direct:
        raise RoomError(DIRECT_REFUSED)
    if room.is_private:
        raise RoomError("This room is by invitation only.")
    if room.is_archived:
        raise RoomError("This room is archived: nobody can join it.")
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
    if room.is_direct:
        raise RoomPermissionDenied(DIRECT_REFUSED)
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
            transaction.on_commit(
                lambda: room_signal_send(member_invited, sender=Membership, membership=membership)
            )
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
    if room.is_direct:
        raise RoomPermissionDenied(DIRECT_REFUSED)
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
    """An owner renames the room; its slug (and so its address) stays."""
    return room_settings_update(room=room, actor=actor, name=name)


def room_members_notify_changed(room, member_ids=None):
    """Once the current transaction commits, every member's open pages (any room, the
    home page) re-read their rooms: call it after changing what a sidebar shows of a
    room (its name, lock, archived mark, or the room gone). The ids are read now:
    after a deletion the memberships are gone."""
    if member_ids is None:
        member_ids = list(room.memberships.filter(banned_at__isnull=True).values_list("user_id", flat=True))

    def notify():
        for user_id in member_ids:
            user_send(user_id, {"type": "rooms.changed"})

    transaction.on_commit(notify)


def _rooms_changed(user):
    """The user's open pages follow their rooms (badges of a room joined in another tab)."""
    user_send(user.pk, {"type": "rooms.changed"})


# --- the owner's settings -------------------------------------------------------------

NAME_MAX_LENGTH = Room._meta.get_field("name").max_length
TOPIC_MAX_LENGTH = Room._meta.get_field("topic").max_length


def _require_owner(*, room, user):
    """Settings that change what the room is belong to its owners, not its moderators.
    A direct conversation has no owner and no settings: it is its people."""
    if room.is_direct:
        raise RoomPermissionDenied("A direct conversation has no settings.")
    membership = membership_get_active(room=room, user=user)
    if membership is None or membership.role != Membership.Role.OWNER:
        raise RoomPermissionDenied("Only the room's owners can change its settings.")
    return membership


def _room_header_broadcast(room):
    """The pages showing the room get its new name and topic (rendered once)."""
    html = render_to_string("rooms/partials/room_title.html", {"room": room, "oob": True})
    room_broadcast_html(room, html)


def _room_notice_broadcast(room):
    """The pages showing the room learn it was archived or restored: the notice
    takes the composer's place (chat.css), or goes and gives it back."""
    html = render_to_string("rooms/partials/room_notice.html", {"room": room, "oob": True})
    room_broadcast_html(room, html)


def room_settings_update(*, room, actor, name=None, topic=None, is_private=None):
    """The owner renames the room, changes its topic or its privacy (None: unchanged).
    The slug stays, so links to the room keep working. Members' sidebars and the
    room's open pages follow."""
    _require_owner(room=room, user=actor)
    changed = {}
    if name is not None:
        name = " ".join(name.split())
        if not name:
            raise RoomError("A room needs a name.")
        if len(name) > NAME_MAX_LENGTH:
            raise RoomError(f"A room's name can be at most {NAME_MAX_LENGTH} characters.")
        changed["name"] = name
    if topic is not None:
        topic = topic.strip()
        if len(topic) > TOPIC_MAX_LENGTH:
            raise RoomError(f"A topic can be at most {TOPIC_MAX_LENGTH} characters.")
        changed["topic"] = topic
    if is_private is not None:
        changed["is_private"] = bool(is_private)
    changed = {field: value for field, value in changed.items() if getattr(room, field) != value}
    if not changed:
        return room
    with transaction.atomic():
        for field, value in changed.items():
            setattr(room, field, value)
        room.save(update_fields=list(changed))
        room_members_notify_changed(room)
        transaction.on_commit(lambda: _room_header_broadcast(room))
    logger.info("room settings room=%s user=%s changed=%s", room.slug, actor.username, ",".join(changed))
    return room


def _set_archived(*, room, actor, archived_at):
    _require_owner(room=room, user=actor)
    if room.archived_at == archived_at or (room.is_archived and archived_at is not None):
        return room
    with transaction.atomic():
        room.archived_at = archived_at
        room.save(update_fields=["archived_at"])
        room_members_notify_changed(room)
        transaction.on_commit(lambda: _room_notice_broadcast(room))
    change = "archived" if archived_at else "restored"
    logger.info("room %s room=%s user=%s", change, room.slug, actor.username)
    return room


def room_archive(*, room, actor):
    """The owner makes the room read-only: no posting (messages_app's message_post
    refuses), out of the directory, kept in its members' sidebars, until restored."""
    return _set_archived(room=room, actor=actor, archived_at=timezone.now())


def room_restore(*, room, actor):
    """The owner opens an archived room again."""
    return _set_archived(room=room, actor=actor, archived_at=None)


def room_delete(*, room, actor):
    """The owner deletes the room with its messages, for good. Its open pages say
    so and their sockets close (4404); members' sidebars drop it."""
    _require_owner(room=room, user=actor)
    room_id, slug = room.pk, room.slug
    with transaction.atomic():
        room_members_notify_changed(room)
        html = render_to_string("rooms/partials/room_gone.html", {"room": room})
        # Sent to the group by its name: the Room row (its pk) is gone by then.
        gone = Room(pk=room_id)
        transaction.on_commit(lambda: room_send(gone, {"type": "room.deleted", "html": html}))
        room.delete()
    logger.info("room deleted room=%s user=%s", slug, actor.username)


# --- direct conversations ---------------------------------------------------------------

DIRECT_MAX_OTHERS = 8


def direct_key(user_ids):
    """The set of people as one unique string: their sorted ids."""
    return ",".join(str(user_id) for user_id in sorted(set(user_ids)))


def direct_block_between(*, user, others):
    """True when `user` blocked one of `others`, or one of them blocked `user`."""
    other_ids = [other.pk for other in others]
    return Block.objects.filter(
        Q(blocker=user, blocked_id__in=other_ids) | Q(blocker_id__in=other_ids, blocked=user)
    ).exists()


def direct_size_check(others_count):
    """A conversation has at most DIRECT_MAX_OTHERS people besides me (pickers check
    this before reading that many people)."""
    if others_count > DIRECT_MAX_OTHERS:
        raise RoomError(f"A conversation can have at most {DIRECT_MAX_OTHERS} people besides you.")


def direct_conversation_open(*, user, others):
    """The direct conversation of `user` with `others` (1 to 8 people), created the
    first time: the same people always get the same room, two clicks at once
    included (direct_key is unique; the loser of the race reads the winner's row).
    Everyone is a plain member (no owner: no settings, no invitations); whoever had
    left is back, and their open pages show the conversation."""
    others = {other.pk: other for other in others if other.pk != user.pk}
    if not others:
        raise RoomError("A conversation needs someone besides you.")
    direct_size_check(len(others))
    inactive = sorted(other.username for other in others.values() if not other.is_active)
    if inactive:
        raise RoomError(f"{', '.join(inactive)} cannot be messaged: their account is closed.")
    if direct_block_between(user=user, others=others.values()):
        raise DirectBlocked("You cannot message this person: one of you has blocked the other.")
    people = [user, *others.values()]
    # Stored for everyone (admin, search results); each viewer sees the others' names.
    name = ", ".join(sorted(person.username for person in people))[:NAME_MAX_LENGTH]
    room, created = Room.objects.get_or_create(
        direct_key=direct_key(person.pk for person in people),
        defaults={
            "name": name,
            "slug": f"dm-{secrets.token_hex(6)}",  # random: the address names nobody
            "kind": Room.Kind.DIRECT,
            "is_private": True,
            "created_by": user,
        },
    )
    with transaction.atomic():
        present = set(room.memberships.values_list("user_id", flat=True))
        missing = [person.pk for person in people if person.pk not in present]
        if missing:
            Membership.objects.bulk_create(
                [Membership(room=room, user_id=user_id) for user_id in missing], ignore_conflicts=True
            )
            room_members_notify_changed(room, member_ids=missing)
            if not created:
                transaction.on_commit(lambda: member_list_broadcast(room=room))
    if created:
        logger.info(
            "direct conversation created room=%s user=%s people=%s", room.slug, user.username, len(people)
        )
    return room
