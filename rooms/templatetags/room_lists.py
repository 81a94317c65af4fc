"""How the sidebar splits the user's rooms: rooms by name, then direct conversations,
busiest first. The names a direct conversation shows are its other people's,
computed for each viewer (the stored name lists everyone, for the admin and search)."""

from datetime import UTC, datetime

from django import template

register = template.Library()

NEVER = datetime.min.replace(tzinfo=UTC)


@register.filter
def rooms_only(memberships):
    return [m for m in memberships if not m.room.is_direct]


@register.filter
def direct_only(memberships):
    """Direct conversations, the one with the newest message first (a new one by its
    creation time)."""
    direct = [m for m in memberships if m.room.is_direct]
    return sorted(direct, key=lambda m: m.last_activity or m.room.created_at or NEVER, reverse=True)


@register.filter
def people_names(users):
    return ", ".join(user.shown_name for user in users) or "only you"


@register.filter
def others_than(memberships, user):
    """The users of `memberships` (a member list) other than `user`."""
    return [m.user for m in memberships if m.user_id != user.pk]


@register.simple_tag
def room_label(room, members, user):
    """What the page calls the room: its name, or a direct conversation's other people."""
    if not room.is_direct:
        return room.name
    return people_names(others_than(members, user))
