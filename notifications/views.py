from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from config.params import choice_param
from notifications.models import Level
from notifications.services import room_level_of, room_level_set
from rooms.shortcuts import readable_room_or_404, see_other


def _member_access_or_403(*, slug, user):
    access = readable_room_or_404(slug=slug, user=user)
    if not access.is_member:
        raise PermissionDenied("Join the room to choose what it notifies you of.")
    return access


@login_required
@require_http_methods(["GET", "POST"])
def room_notifications(request, slug):
    """The member's notification level for the room: the control in the room menu,
    a page of its own without JavaScript, and JSON (?format=json) for the page's
    script."""
    access = _member_access_or_403(slug=slug, user=request.user)
    room = access.room
    if request.method == "POST":
        chosen = choice_param(request.POST, "level", Level.values)
        level = room_level_set(user=request.user, room=room, level=chosen)
        if not request.htmx:
            return see_other(room.get_absolute_url())
        saved = True
    else:
        level, saved = room_level_of(user=request.user, room=room), False
        if choice_param(request.GET, "format", ["html", "json"], default="html") == "json":
            return JsonResponse({"level": level})  # js/notify.js, before a desktop notification
    context = {"room": room, "level": level, "levels": Level, "saved": saved}
    template = "notifications/partials/room_level.html" if request.htmx else "notifications/room_level.html"
    return render(request, template, context)
