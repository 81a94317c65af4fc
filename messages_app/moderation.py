"""Moderation services: ban, mute, promote, slow mode, and the audit trail.

The admin (staff, source "admin") and the room page (owners and moderators,
source "page") call the same functions; each checks permissions on the server,
changes the database, records a ModerationAction, and after commit tells every
open page (a banned member's sockets for the room close with 4403).
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from config.realtime import user_send
from messages_app.models import ModerationAction
from rooms.models import Membership
from rooms.presence.roster import member_list_broadcast
from rooms.services import RoomError

logger = logging.getLogger(__name__)

Action = ModerationAction.Action
Source = ModerationAction.Source
MUTE_DURATIONS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24)}
# Who outranks whom on the room page: a moderator cannot ban an owner or another moderator.
RANK = {Membership.Role.OWNER: 3, Membership.Role.MODERATOR: 2, Membership.Role.MEMBER: 1}


class ModerationRefused(RoomError):
    """The actor may not take this moderation action."""


def moderator_membership(*, room, actor, source):
    """The actor's membership when they may moderate the room from `source`;
    staff moderate every room from the admin. Raises ModerationRefused."""
    if source == Source.ADMIN:
        if not actor.is_staff:
            raise ModerationRefused("Only staff can moderate from the admin.")
        return None
    membership = Membership.objects.filter(room=room, user=actor).first()
    if membership is None or not membership.can_moderate:
        raise ModerationRefused("Only the room's owners and moderators can do that.")
    return membership


def _check_outranks(actor_membership, target):
    if actor_membership is not None and RANK[actor_membership.role] <= RANK[target.role]:
        raise ModerationRefused(f"You cannot moderate {target.user.username}: they are a {target.role}.")


def _target_membership(*, room, user):
    membership = Membership.objects.select_related("user").filter(room=room, user=user).first()
    if membership is None:
        raise ModerationRefused(f"{user.username} is not a member of this room.")
    return membership


def _members_changed(room):
    """Every open page of the room gets the new member list once this commits."""
    transaction.on_commit(lambda: member_list_broadcast(room=room))


def record_action(*, actor, action, room, source, target_user=None, message=None, reason=""):
    """Write one line of the audit trail."""
    logger.info("moderation %s room=%s actor=%s target=%s", action, room.slug, actor, target_user or message)
    return ModerationAction.objects.create(
        actor=actor,
        action=action,
        room=room,
        source=source,
        target_user=target_user,
        message=message,
        reason=reason[:500],
    )


@transaction.atomic
def member_ban(*, room, user, actor, source, reason=""):
    """Ban a member: their sockets for the room close (4403) with the reason shown;
    they cannot rejoin, reconnect, post or read the room until unbanned."""
    target = _target_membership(room=room, user=user)
    _check_outranks(moderator_membership(room=room, actor=actor, source=source), target)
    if target.is_banned:
        return target
    target.banned_at = timezone.now()
    target.save(update_fields=["banned_at"])
    record_action(actor=actor, action=Action.BAN, room=room, source=source, target_user=user, reason=reason)
    event = {"type": "room.banned", "room_id": room.pk, "reason": reason}
    transaction.on_commit(lambda: user_send(user.pk, event))
    _members_changed(room)
    return target


@transaction.atomic
def member_unban(*, room, user, actor, source, reason=""):
    """Lift a ban: the user is a plain member again, and their open pages of the room
    show it again, live."""
    target = _target_membership(room=room, user=user)
    moderator_membership(room=room, actor=actor, source=source)
    if not target.is_banned:
        return target
    target.banned_at, target.role = None, Membership.Role.MEMBER
    target.save(update_fields=["banned_at", "role"])
    record_action(actor=actor, action=Action.UNBAN, room=room, source=source, target_user=user, reason=reason)
    # Their sidebars take the room back; their banned page of it (ban_watch.py) the room.
    transaction.on_commit(lambda: user_send(user.pk, {"type": "rooms.changed"}))
    _members_changed(room)
    return target


@transaction.atomic
def member_mute(*, room, user, actor, source, duration, reason=""):
    """Mute a member for a while: they still read, but posting is refused with the time it ends."""
    if duration not in MUTE_DURATIONS:
        raise ModerationRefused("Mute for 1 hour or 24 hours.")
    target = _target_membership(room=room, user=user)
    _check_outranks(moderator_membership(room=room, actor=actor, source=source), target)
    target.muted_until = timezone.now() + MUTE_DURATIONS[duration]
    target.save(update_fields=["muted_until"])
    record_action(
        actor=actor, action=Action.MUTE, room=room, source=source, target_user=user, reason=reason or duration
    )
    return target


@transaction.atomic
def member_unmute(*, room, user, actor, source, reason=""):
    target = _target_membership(room=room, user=user)
    moderator_membership(room=room, actor=actor, source=source)
    target.muted_until = None
    target.save(update_fields=["muted_until"])
    record_action(
        actor=actor, action=Action.UNMUTE, room=room, source=source, target_user=user, reason=reason
    )
    return target


def _owner_or_staff(*, room, actor, source):
    membership = moderator_membership(room=room, actor=actor, source=source)
    if membership is not None and membership.role != Membership.Role.OWNER:
        raise ModerationRefused("Only the room's owners can promote and demote moderators.")


# A role change: the role it takes a member from, and the role it gives.
ROLE_CHANGES = {
    Action.PROMOTE: (Membership.Role.MEMBER, Membership.Role.MODERATOR),
    Action.DEMOTE: (Membership.Role.MODERATOR, Membership.Role.MEMBER),
}


def _change_role(*, room, user, actor, source, reason, action):
    _owner_or_staff(room=room, actor=actor, source=source)
    role_from, role_to = ROLE_CHANGES[action]
    target = _target_membership(room=room, user=user)
    if target.is_banned or target.role != role_from:
        raise ModerationRefused(f"{user.username} is not a {role_from}.")
    target.role = role_to
    target.save(update_fields=["role"])
    record_action(actor=actor, action=action, room=room, source=source, target_user=user, reason=reason)
    _members_changed(room)
    return target


@transaction.atomic
def member_promote(*, room, user, actor, source, reason=""):
    """Make a plain member a moderator (owners on the page, staff in the admin)."""
    return _change_role(
        room=room, user=user, actor=actor, source=source, reason=reason, action=Action.PROMOTE
    )


@transaction.atomic
def member_demote(*, room, user, actor, source, reason=""):
    """Make a moderator a plain member again."""
    return _change_role(room=room, user=user, actor=actor, source=source, reason=reason, action=Action.DEMOTE)


@transaction.atomic
def room_set_slow_mode(*, room, seconds, actor, source):
    """One message per `seconds` per member (0 turns it off); moderators are exempt."""
    moderator_membership(room=room, actor=actor, source=source)
    if not isinstance(seconds, int) or not 0 <= seconds <= 3600:
        raise ModerationRefused("Slow mode is between 0 and 3,600 seconds.")
    room.slow_mode_seconds = seconds
    room.save(update_fields=["slow_mode_seconds"])
    record_action(actor=actor, action=Action.SLOW_MODE, room=room, source=source, reason=f"{seconds} s")
    return room
