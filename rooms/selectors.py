"""Read-side queries for rooms: who may see what."""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

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
    membership = Membership.objects.filter(room=room, user=user).first()
    if room.is_private and membership is None:
        return None
    return RoomAccess(room=room, membership=membership)


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
