"""Incoming webhooks over HTTP: the secret URL tools POST to (JSON answers, no CSRF:
the token in the URL is the authority), and the room owner's page that makes, lists
and revokes hooks. The rules are in api/webhooks.py."""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from api.models import IncomingWebhook
from api.webhooks import (
    WebhookRefused,
    webhook_create,
    webhook_for_token,
    webhook_list_for_room,
    webhook_post,
    webhook_revoke,
)
from rooms.shortcuts import readable_room_or_404, refused_form_status, see_other

FORMS = {"application/x-www-form-urlencoded", "multipart/form-data"}


@csrf_exempt
def webhook_post_view(request, token):
    """`POST /hooks/<token>/`: Slack's JSON (or its form field `payload=`) -> a message.
    Size is checked before the body is read, then the token, then the payload."""
    try:
        if request.method != "POST":
            raise WebhookRefused("Send the message with POST.", status=405)
        body = _body_within_limit(request)
        hook = webhook_for_token(token=token)
        if hook is None:
            raise WebhookRefused("No such webhook (it may have been revoked).", status=404)
        message = webhook_post(hook=hook, payload=_payload(request, body))
    except WebhookRefused as refusal:
        return _refusal(refusal)
    return JsonResponse({"ok": True, "message_id": message.pk})


def _refusal(refusal):
    response = JsonResponse({"detail": refusal.detail}, status=refusal.status)
    if refusal.retry_after:
        response["Retry-After"] = str(refusal.retry_after)
    if refusal.status == 405:
        response["Allow"] = "POST"
    return response


def _body_within_limit(request):
    limit = settings.WEBHOOK_MAX_BYTES
    too_large = WebhookRefused(f"The body can be at most {limit:,} bytes.", status=413)
    if _content_length(request) > limit:
        raise too_large
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(body) > limit:  # sent without a length, or with a false one
        raise too_large
    return body


def _content_length(request):
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:  # servers refuse such a header; the body is counted instead
        return 0


def _payload(request, body):
    """The JSON the caller sent: the body itself, or Slack's form field `payload`."""
    raw = body
    if request.content_type in FORMS:
        raw = request.POST.get("payload")
        if raw is None:
            raise WebhookRefused('A form body must carry the JSON in its "payload" field.')
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise WebhookRefused('The body is not valid JSON: send {"text": "..."}.') from None


# --- the room owner's page -------------------------------------------------------------------


def _owner_access_or_403(*, slug, user):
    """As the room settings: a private room is 404 to non-members, the rest 403 to non-owners."""
    access = readable_room_or_404(slug=slug, user=user)
    if not access.is_owner:
        raise PermissionDenied("Only the room's owners can manage its webhooks.")
    return access


@login_required
@require_http_methods(["GET", "POST"])
def room_webhooks(request, slug):
    """The room's hooks and a form to make one; after making one, its URL, shown once."""
    access = _owner_access_or_403(slug=slug, user=request.user)
    room, created, error, status = access.room, None, "", 200
    if request.method == "POST":
        try:
            name = request.POST.get("name", "")
            hook, token = webhook_create(room=room, created_by=request.user, name=name)
        except WebhookRefused as refusal:
            error, status = refusal.detail, refused_form_status(request)
        else:
            url = request.build_absolute_uri(reverse("webhook_post", args=[token]))
            created = {"hook": hook, "url": url}
    context = {
        "room": room,
        "hooks": webhook_list_for_room(room=room),
        "created": created,
        "error": error,
        "name_max": IncomingWebhook._meta.get_field("name").max_length,
    }
    response = render(request, "api/webhooks.html", context, status=status)
    response["Cache-Control"] = "no-store"  # it may hold a hook's secret URL
    return response


@login_required
@require_POST
def room_webhook_revoke(request, slug, pk):
    access = _owner_access_or_403(slug=slug, user=request.user)
    hook = IncomingWebhook.objects.filter(room=access.room, pk=pk).first()
    if hook is None:
        raise Http404("No such webhook in this room.")
    webhook_revoke(hook=hook, revoked_by=request.user)
    return see_other(reverse("room_webhooks", args=[access.room.slug]))
