from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from messages_app.selectors import message_list_after, message_list_before
from messages_app.services import MessageRejected, message_post
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
