"""Every API refusal is JSON {"detail": ...} (design.md section 6), whoever raised it:
ninja (auth, validation, a body that is no JSON), the services (MessageRejected and its
kinds), Django (a body over DATA_UPLOAD_MAX_MEMORY_SIZE) or the URL resolver.

A room the caller may not read is 404 before anything else is said about the request:
a malformed request to a private room's URL must not tell that the room exists."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError

from messages_app.services import (
    MessageInvalid,
    MessageNotFound,
    MessageRateLimited,
    MessageRejected,
    MessageTooLong,
)
from rooms.selectors import room_access

NOT_FOUND = "No such room."


def error_response(status, detail, **headers):
    return JsonResponse({"detail": detail}, status=status, headers=headers)


def room_hidden(request):
    """True when the URL names a room (`slug`) that the authenticated caller may not read."""
    match = getattr(request, "resolver_match", None)
    slug = match.kwargs.get("slug") if match else None
    user = getattr(request, "auth", None)
    if slug is None or user is None:
        return False
    access = room_access(slug=slug, user=user)
    return access is None or (access.is_banned and access.room.is_private)


def on_http_error(request, exc):
    if exc.status_code == 400 and room_hidden(request):  # a body that is no JSON
        return error_response(404, NOT_FOUND)
    headers = {"WWW-Authenticate": 'Bearer realm="api"'} if isinstance(exc, AuthenticationError) else {}
    return error_response(exc.status_code, str(exc), **headers)


def on_body_too_big(request, exc):
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE, refused by Django as ninja reads it."""
    if room_hidden(request):
        return error_response(404, NOT_FOUND)
    return error_response(413, f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes.")


def on_validation_error(request, exc):
    if room_hidden(request):
        return error_response(404, NOT_FOUND)
    return error_response(422, _plain(exc.errors))


def _plain(errors):
    """ninja's errors without pydantic's `ctx` and `input`, which need not be JSON (an
    exception object, a huge input echoed back)."""
    return [{key: value for key, value in error.items() if key in {"type", "loc", "msg"}} for error in errors]


def on_not_found(request, exc):
    return error_response(404, str(exc) or "Not found.")


def on_message_rejected(request, exc):
    """The services' refusals, by kind; the rest (not a member, banned, muted,
    archived, not yours) are 403."""
    if isinstance(exc, MessageRateLimited):
        return error_response(429, str(exc), **{"Retry-After": str(max(1, int(exc.retry_after)))})
    status = 404 if isinstance(exc, MessageNotFound) else 403
    if isinstance(exc, MessageTooLong):
        status = 413
    elif isinstance(exc, MessageInvalid):
        status = 422
    return error_response(status, str(exc))


def install(api):
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(Http404, on_not_found)
    api.add_exception_handler(RequestDataTooBig, on_body_too_big)
    api.add_exception_handler(MessageRejected, on_message_rejected)


def with_json_errors(view):
    """A view of the API's URLconf whose non-JSON refusals become JSON: ninja answers a
    method the path does not take with plain text, its root URL with Django's 404 page."""

    def view_with_json_errors(request, *args, **kwargs):
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return error_response(404, "Not found.")
        is_json = response.get("Content-Type", "").startswith("application/json")
        if response.status_code == 405 and not is_json:
            return error_response(405, "Method not allowed.", Allow=response["Allow"])
        return response

    view_with_json_errors.csrf_exempt = getattr(view, "csrf_exempt", False)
    return view_with_json_errors
