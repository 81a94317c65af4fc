from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from config.params import choice_param
from notifications.emails import email_enabled_of, email_enabled_set, email_unsubscribe, unsubscribe_user_id
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
    and a page of its own without JavaScript."""
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
    context = {"room": room, "level": level, "levels": Level, "saved": saved}
    template = "notifications/partials/room_level.html" if request.htmx else "notifications/room_level.html"
    return render(request, template, context)


# RFC 8058: the mail client's one-click POST carries no CSRF token; the signed token is the authority.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def email_unsubscribe_page(request, token):
    """The unsubscribe link of every mail. GET only asks (link scanners follow links);
    POST, from the page's button or the mail client's one-click, unsubscribes."""
    user_id = unsubscribe_user_id(token)
    if user_id is None or not get_user_model().objects.filter(pk=user_id).exists():
        return render(request, "notifications/unsubscribe_invalid.html", status=400)
    done = request.method == "POST"
    if done:
        email_unsubscribe(user_id=user_id)
    return render(request, "notifications/unsubscribe.html", {"done": done})


EMAIL_CHOICES = {"on": True, "off": False}


@login_required
@require_http_methods(["GET", "POST"])
def email_settings(request):
    """The person's email switch: the digest of unread mentions and direct messages,
    and invitation emails (the unsubscribe link of a mail turns it off too)."""
    saved = request.method == "POST"
    if saved:
        choice = choice_param(request.POST, "email", list(EMAIL_CHOICES))
        email_enabled_set(user_id=request.user.pk, enabled=EMAIL_CHOICES[choice])
    enabled = email_enabled_of(request.user)
    context = {"enabled": enabled, "saved": saved, "after_minutes": settings.NOTIFY_EMAIL_AFTER // 60}
    return render(request, "notifications/email_settings.html", context)
