from django import template

from notifications.models import Level
from notifications.services import room_level_of

register = template.Library()


@register.inclusion_tag("notifications/partials/room_level.html")
def room_level_control(room, user):
    """The room menu's notification control, showing the level that applies now."""
    return {"room": room, "level": room_level_of(user=user, room=room), "levels": Level, "saved": False}
