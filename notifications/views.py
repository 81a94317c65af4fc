from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from config.params import choice_param
from notifications.models import Level
from notifications.push import (
    SUBSCRIPTION_MAX_BYTES,
    Refused,
    device_name,
    push_enabled,
    subscription_delete,
    subscription_parse,
    subscription_save,
)
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


# --- Web Push (notifications/push.py) ------------------------------------------------------------


def _detail(text, status):
    return JsonResponse({"detail": text}, status=status)


@require_GET
def push_key(request):
    """This server's VAPID public key, the browser's applicationServerKey; null when push
    is off (a 200 all the same: the page asks on every load, and nothing is wrong)."""
    return JsonResponse({"public_key": settings.VAPID_PUBLIC_KEY if push_enabled() else None})


@require_http_methods(["POST", "DELETE"])
def push_subscriptions(request):
    """POST the browser's subscription JSON to get pushes on this device; DELETE it
    (its endpoint is enough) to stop them."""
    if not request.user.is_authenticated:
        return _detail("Log in first.", 403)
    if len(request.body) > SUBSCRIPTION_MAX_BYTES:
        return _detail("The subscription is too large.", 413)
    subscribing = request.method == "POST"
    try:
        subscription = subscription_parse(request.body, keys_required=subscribing)
    except Refused as refusal:
        return _detail(str(refusal), 400)
    if not subscribing:
        subscription_delete(user=request.user, endpoint=subscription.endpoint)
        return HttpResponse(status=204)
    saved = subscription_save(
        user=request.user,
        subscription=subscription,
        device=device_name(request.headers.get("User-Agent", "")),
    )
    return JsonResponse({"device": saved.device}, status=201)


@require_GET
def service_worker(request):
    """The service worker, from the site's root so that its scope is the whole site."""
    response = render(request, "notifications/sw.js", content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response
