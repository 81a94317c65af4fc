from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from config.params import choice_param
from notifications.emails import email_unsubscribe, unsubscribe_user_id
from notifications.forms import QUIET_CHOICES, PreferencesForm, QuietForm
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
from notifications.services import (
    do_not_disturb_set,
    preferences_of,
    preferences_save,
    push_subscription_remove,
    quiet_until,
    room_level_of,
    room_level_set,
)
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


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    """The person's notification settings: defaults, email, do not disturb, devices."""
    preferences = preferences_of(request.user)
    if request.method == "POST":
        form = PreferencesForm(request.POST, instance=preferences)
        if form.is_valid():
            preferences_save(user=request.user, **form.cleaned_data)
            messages.success(request, "Your notification settings are saved.")
            return see_other(request.path)
        status = 400
    else:
        form, status = PreferencesForm(instance=preferences), 200
    context = {
        "form": form,
        "quiet_form": QuietForm(),
        "preferences": preferences,
        "devices": request.user.push_subscriptions.order_by("-created_at"),
    }
    return render(request, "notifications/settings.html", context, status=status)


QUIET_DURATIONS = [value for value, _ in QUIET_CHOICES]


@login_required
@require_http_methods(["POST"])
def do_not_disturb(request):
    """Start "do not disturb" for a while, or (`end`) end it now."""
    if "end" in request.POST:
        do_not_disturb_set(user=request.user, until=None)
        messages.success(request, "Do not disturb is off.")
        return see_other(reverse("notification_settings"))
    duration = choice_param(request.POST, "duration", QUIET_DURATIONS)
    until = quiet_until(duration, user=request.user)
    do_not_disturb_set(user=request.user, until=until)
    messages.success(request, "Do not disturb is on: no push or email until it ends.")
    return see_other(reverse("notification_settings"))


@login_required
@require_http_methods(["POST"])
def device_remove(request, pk):
    """Forget one of my devices: it gets no more pushes."""
    if not push_subscription_remove(user=request.user, subscription_id=pk):
        raise Http404("No such device.")
    messages.success(request, "The device is removed: it gets no more notifications.")
    return see_other(reverse("notification_settings"))


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
