"""Read-side queries for rooms: who may see what."""

from dataclasses import dataclass

from django.db.models import Count, Q

from rooms.models import Membership, Room


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


def room_access(*, slug, user):
    """The room and the user's membership, or None when the room does not exist
    for this user (missing, or private and they were never in it)."""
    room = Room.objects.filter(slug=slug).first()
    if room is None or not user.is_authenticated:
        return None
    membership = Membership.objects.filter(room=room, user=user).first()
    if room.is_private and membership is None:
        return None
    return RoomAccess(room=room, membership=membership)


def membership_get_active(*, room, user):
    """The user's membership of the room, unless there is none or it is a ban."""
    return Membership.objects.filter(room=room, user=user, banned_at__isnull=True).first()


def room_list_public():
    """Public rooms for the directory, with their member counts."""
    return Room.objects.filter(is_private=False).annotate(
        member_count=Count("memberships", filter=Q(memberships__banned_at__isnull=True))
    )


def room_list_for_user(*, user):
    """The rooms the user belongs to (not banned from), public and private."""
    return Room.objects.filter(memberships__user=user, memberships__banned_at__isnull=True).order_by("name")


def room_members(*, room):
    """Active members of a room, owners first, with their users in one query."""
    role_order = {Membership.Role.OWNER: 0, Membership.Role.MODERATOR: 1, Membership.Role.MEMBER: 2}
    members = list(room.memberships.filter(banned_at__isnull=True).select_related("user"))
    return sorted(members, key=lambda m: (role_order[m.role], m.user.username.lower()))
