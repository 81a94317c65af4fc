from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest, HttpResponseForbidden
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from messages_app.models import Message
from messages_app.selectors import message_list_after, message_list_before
from messages_app.services import MessageRejected, message_delete, message_edit, message_post
from rooms.shortcuts import readable_room_or_404, see_other
from rooms.views import render_room_page


@login_required
@require_http_methods(["GET", "POST"])
def room_messages(request, slug):
    """GET: a page of history (`?before=<id>`) or a catch-up (`?after=<id>`).
    POST: send a message without a WebSocket (the same service as the socket)."""
    access = readable_room_or_404(slug=slug, user=request.user)
    if request.method == "POST":
        return _post_message(request, access)
    return _history_fragment(request, access)


def _int_param(request, name):
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


def _history_fragment(request, access):
    before, after = _int_param(request, "before"), _int_param(request, "after")
    if before is not None:
        messages, has_more = message_list_before(room=access.room, before_id=before), None
    elif after is not None:
        messages, has_more = message_list_after(room=access.room, after_id=after)
    else:
        return HttpResponseBadRequest("Ask for ?before=<id> or ?after=<id>.")
    return render(
        request,
        "messages_app/partials/message_list.html",
        {"room": access.room, "messages_shown": messages, "more_after": has_more},
    )


def _post_message(request, access):
    body = request.POST.get("body", "")
    try:
        message_post(room=access.room, author=request.user, body=body)
    except MessageRejected as refusal:
        return render_room_page(request, access, status=400, draft=body, error=str(refusal))
    return see_other(access.room.get_absolute_url())


def _message_or_404(access, pk):
    return get_object_or_404(Message.objects.select_related("author"), room=access.room, pk=pk)


def _render_message(request, access, message, *, status=200):
    context = {"message": message, "room": access.room}
    return render(request, "messages_app/partials/message.html", context, status=status)


@login_required
@require_GET
def message_detail(request, slug, pk):
    """One message as it is shown in the list (used to cancel an edit)."""
    access = readable_room_or_404(slug=slug, user=request.user)
    return _render_message(request, access, _message_or_404(access, pk))


@login_required
@require_http_methods(["GET", "POST"])
def message_edit_view(request, slug, pk):
    """GET: the inline edit form. POST: save through message_edit; every open page,
    this one included, gets the new version from the broadcast."""
    access = readable_room_or_404(slug=slug, user=request.user)
    message = _message_or_404(access, pk)
    if request.method == "GET":
        if message.author_id != request.user.pk or message.is_deleted:
            return _render_message(request, access, message, status=403)
        return render(
            request, "messages_app/partials/message_edit_form.html", {"message": message, "room": access.room}
        )
    body = request.POST.get("body", "")
    try:
        message = message_edit(room=access.room, user=request.user, message_id=pk, body=body)
    except MessageRejected as refusal:
        context = {"message": message, "room": access.room, "draft": body, "error": str(refusal)}
        return render(request, "messages_app/partials/message_edit_form.html", context, status=400)
    if request.htmx:
        return _render_message(request, access, message)
    return see_other(access.room.get_absolute_url())


@login_required
@require_POST
def message_delete_view(request, slug, pk):
    access = readable_room_or_404(slug=slug, user=request.user)
    try:
        message = message_delete(room=access.room, user=request.user, message_id=pk)
    except MessageRejected as refusal:
        return HttpResponseForbidden(str(refusal))
    if request.htmx:
        return _render_message(request, access, message)
    return see_other(access.room.get_absolute_url())
