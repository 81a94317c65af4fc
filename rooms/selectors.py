"""Read-side queries for rooms: who may see what."""

from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from messages_app.models import Message
from rooms.models import Invitation, Membership, Room

# Counting stops here: a badge shows "999+" rather than scanning years of history.
UNREAD_CAP = 1000


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


class SubqueryCount(Subquery):
    """COUNT(*) of a (limited) subquery, as a column of the outer query."""

    template = "(SELECT count(*) FROM (%(subquery)s) _counted)"
    output_field = IntegerField()


def room_list_public():
    """Public rooms for the directory: member count and time of the newest message."""
    newest = Message.objects.filter(room=OuterRef("pk")).order_by("-id").values("created_at")[:1]
    return Room.objects.filter(is_private=False).annotate(
        member_count=Count("memberships", filter=Q(memberships__banned_at__isnull=True)),
        last_activity=Subquery(newest),
    )


def room_list_readable(*, user):
    """Every room the user may read: public rooms they are not banned from, and
    the private rooms they are a member of (the rule of room_access, for many rooms)."""
    memberships = Membership.objects.filter(room=OuterRef("pk"), user=user)
    return Room.objects.filter(
        Q(is_private=False) | Exists(memberships.filter(banned_at__isnull=True))
    ).exclude(Exists(memberships.filter(banned_at__isnull=False)))


def membership_list_for_user(*, user):
    """The user's rooms (not banned from), each membership with its room, its
    unread count and whether an unread message mentions the user: one query."""
    last_read = Coalesce(OuterRef("last_read_message_id"), 0)
    unread = (
        Message.objects.filter(room=OuterRef("room_id"), id__gt=last_read, deleted_at__isnull=True)
        .exclude(author=user)
        .values("id")[:UNREAD_CAP]
    )
    unread_mention = Message.mentions.through.objects.filter(
        user=user,
        message__room=OuterRef("room_id"),
        message_id__gt=last_read,
        message__deleted_at__isnull=True,
    )
    return (
        Membership.objects.filter(user=user, banned_at__isnull=True)
        .select_related("room")
        .annotate(unread_count=SubqueryCount(unread), has_unread_mention=Exists(unread_mention))
        .order_by("room__name")
    )


def room_members(*, room):
    """Active members of a room, owners first, with their users in one query."""
    role_order = {Membership.Role.OWNER: 0, Membership.Role.MODERATOR: 1, Membership.Role.MEMBER: 2}
    members = list(room.memberships.filter(banned_at__isnull=True).select_related("user"))
    return sorted(members, key=lambda m: (role_order[m.role], m.user.username.lower()))
