"""Read-side queries for rooms: who may see what."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower

from accounts.models import Block
from rooms.models import Invitation, Membership, Room


@dataclass(frozen=True)
class RoomAccess:
    """What one user may do in one room they can at least know about."""

    room: Room
    membership: Membership | None

    @property
    def is_member(self):
        return self.membership is not None and not self.membership.is_banned

    @property
    def is_banned(self):
        return self.membership is not None and self.membership.is_banned

    @property
    def can_read(self):
        return not self.is_banned and (self.is_member or not self.room.is_private)

    @property
    def can_post(self):
        return self.is_member

    @property
    def is_owner(self):
        """Owners change what the room is: its name, topic, privacy; archive or delete it."""
        return self.is_member and self.membership.role == Membership.Role.OWNER

    @property
    def can_invite(self):
        """Owners and moderators invite people and manage invite links."""
        return self.membership is not None and self.membership.can_moderate


def room_access(*, slug, user):
    """The room and the user's membership, or None when the room does not exist
    for this user (missing, or private and they were never in it)."""
    room = Room.objects.filter(slug=slug).first()
    if room is None or not user.is_authenticated:
        return None
    membership = _with_blocked_ids(Membership.objects.filter(room=room, user=user)).first()
    if room.is_private and membership is None:
        return None
    return RoomAccess(room=room, membership=membership)


def room_for_socket(*, slug, user):
    """What a room socket's handshake needs, in one query: the room of `slug`, or None
    when it does not exist for this user (as room_access), with `is_member` (an active
    member) and `other_room_ids` (the user's other rooms, not banned from: their badge
    groups)."""
    memberships = Membership.objects.filter(user=user)
    active = memberships.filter(banned_at__isnull=True)
    others = active.exclude(room_id=OuterRef("pk")).order_by("room_id").values("room_id")
    room = (
        Room.objects.filter(slug=slug)
        .annotate(
            has_membership=Exists(memberships.filter(room_id=OuterRef("pk"))),
            is_member=Exists(active.filter(room_id=OuterRef("pk"))),
            other_room_ids=ArraySubquery(others),
        )
        .first()
    )
    if room is None or (room.is_private and not room.has_membership):
        return None
    return room


def _with_blocked_ids(memberships):
    """On Postgres, each membership carries `blocked_ids`, the people its user blocked
    (the room page folds their messages), in the same query."""
    if connection.vendor != "postgresql":
        return memberships
    blocked = Block.objects.filter(blocker=OuterRef("user_id")).order_by("blocked_id").values("blocked_id")
    return memberships.annotate(blocked_ids=ArraySubquery(blocked))


def invitation_get_active(*, token):
    """The live invitation (with its room) behind a link's token, or None when the
    token is unknown, expired or revoked: the caller cannot tell which."""
    return Invitation.objects.active().select_related("room", "created_by").filter(token=token).first()


def invitation_list_active(*, room):
    """A room's live invite links, newest first, for its owners and moderators."""
    return list(room.invitations.active().select_related("created_by"))


def membership_get(*, room, user):
    """The user's membership of the room, a ban included, or None."""
    return Membership.objects.filter(room=room, user=user).first()


def membership_get_active(*, room, user):
    """The user's membership of the room, unless there is none or it is a ban."""
    return Membership.objects.filter(room=room, user=user, banned_at__isnull=True).first()


def room_list_readable(*, user):
    """Every room the user may read: public rooms they are not banned from, and
    the private rooms they are a member of (the rule of room_access, for many rooms)."""
    memberships = Membership.objects.filter(room=OuterRef("pk"), user=user)
    return Room.objects.filter(
        Q(is_private=False) | Exists(memberships.filter(banned_at__isnull=True))
    ).exclude(Exists(memberships.filter(banned_at__isnull=False)))


def room_members(*, room):
    """Active members of a room, owners first, with their users in one query."""
    role_order = {Membership.Role.OWNER: 0, Membership.Role.MODERATOR: 1, Membership.Role.MEMBER: 2}
    members = list(room.memberships.filter(banned_at__isnull=True).select_related("user"))
    return sorted(members, key=lambda m: (role_order[m.role], m.user.shown_name.lower()))


def direct_others_attach(memberships, *, user):
    """Give each of the user's memberships `others`: the other people of a direct
    conversation (whose names and avatars show for it), [] for a room. One query,
    and none when the user has no direct conversation."""
    memberships = list(memberships)
    direct_ids = [m.room_id for m in memberships if m.room.kind == Room.Kind.DIRECT]
    others = {}
    if direct_ids:
        rows = (
            Membership.objects.filter(room_id__in=direct_ids, banned_at__isnull=True)
            .exclude(user=user)
            .select_related("user")
            .order_by("user__username")
        )
        for row in rows:
            others.setdefault(row.room_id, []).append(row.user)
    for membership in memberships:
        membership.others = others.get(membership.room_id, [])
    return memberships


# --- people -------------------------------------------------------------------------------


def person_get(*, username):
    """The active person of that username, or None."""
    return get_user_model().objects.filter(username=username, is_active=True).first()


def rooms_shared(*, user, person):
    """Rooms (not direct conversations) that both are active members of, by name: every
    one of them is the user's own, so none they could not see."""
    mine = Membership.objects.filter(room=OuterRef("pk"), user=user, banned_at__isnull=True)
    theirs = Membership.objects.filter(room=OuterRef("pk"), user=person, banned_at__isnull=True)
    rooms = Room.objects.filter(Exists(mine), Exists(theirs)).exclude(kind=Room.Kind.DIRECT)
    return list(rooms.order_by(Lower("name"), "pk"))
