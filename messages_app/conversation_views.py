"""A message's thread and the room's pins: the side panels of a conversation."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from messages_app.selectors import message_list_pinned, message_thread
from messages_app.services import MessageRejected, message_pin_toggle
from rooms.shortcuts import readable_room_or_404, see_other


@login_required
@require_GET
@vary_on_headers("HX-Request")
def message_thread_view(request, slug, pk):
    """A message and its replies, oldest first: the room page's side panel (htmx), or
    a page of its own with a composer that answers the message (no JavaScript)."""
    access = readable_room_or_404(slug=slug, user=request.user)
    thread = message_thread(room=access.room, message_id=pk)
    if thread is None:
        raise Http404("No such message in this room.")
    context = {"room": access.room, "access": access, "original": thread[0], "thread_messages": thread}
    template = "messages_app/partials/thread_panel.html" if request.htmx else "messages_app/thread.html"
    return render(request, template, context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def room_pins(request, slug):
    """The room's pinned messages (the room page shows the same list in its menu)."""
    access = readable_room_or_404(slug=slug, user=request.user)
    pinned = message_list_pinned(room=access.room)
    context = {"room": access.room, "access": access, "pinned_messages": pinned}
    template = "messages_app/partials/pins_list.html" if request.htmx else "messages_app/pins.html"
    return render(request, template, context)


@login_required
@require_POST
def message_pin_view(request, slug, pk):
    """Pin or unpin (owners and moderators): every open page hears of it by the socket."""
    access = readable_room_or_404(slug=slug, user=request.user)
    try:
        message_pin_toggle(room=access.room, user=request.user, message_id=pk)
    except MessageRejected as refusal:
        return HttpResponse(str(refusal), status=403, content_type="text/plain; charset=utf-8")
    if request.htmx:
        return HttpResponse(status=204)
    return see_other(access.room.get_absolute_url())
