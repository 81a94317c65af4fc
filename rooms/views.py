from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from messages_app.selectors import message_list_latest
from rooms.forms import RoomForm
from rooms.selectors import membership_list_for_user, room_list_public, room_members
from rooms.services import RoomError, membership_mark_read, room_create, room_join, room_leave
from rooms.shortcuts import readable_room_or_404, see_other


@login_required
def directory(request):
    return render(
        request,
        "rooms/directory.html",
        {"public_rooms": room_list_public(), "my_memberships": membership_list_for_user(user=request.user)},
    )


@login_required
def room_new(request):
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        room = room_create(created_by=request.user, **form.cleaned_data)
        return see_other(room.get_absolute_url())
    return render(request, "rooms/room_new.html", {"form": form})


def room_page_context(request, access, *, draft="", error=""):
    """Everything the room page and its main partial show. Showing a member the
    newest messages marks the room read (in all their tabs)."""
    messages_shown = message_list_latest(room=access.room)
    if access.is_member and messages_shown:
        membership_mark_read(room=access.room, user=request.user, message_id=messages_shown[-1].pk)
    return {
        "room": access.room,
        "access": access,
        "messages_shown": messages_shown,
        "members": room_members(room=access.room),
        "my_memberships": membership_list_for_user(user=request.user),
        "draft": draft,
        "error": error,
    }


def render_room_page(request, access, *, status=200, **extra):
    return render(
        request, "rooms/room_detail.html", room_page_context(request, access, **extra), status=status
    )


def render_room_main(request, access, **extra):
    """The part of the page that changes on join and leave (for htmx requests)."""
    return render(request, "rooms/partials/room_main.html", room_page_context(request, access, **extra))


@login_required
def room_detail(request, slug):
    return render_room_page(request, readable_room_or_404(slug=slug, user=request.user))


@login_required
@require_POST
def room_join_view(request, slug):
    access = readable_room_or_404(slug=slug, user=request.user)
    try:
        room_join(room=access.room, user=request.user)
    except RoomError as refusal:
        return render_room_page(request, access, status=403, error=str(refusal))
    access = readable_room_or_404(slug=slug, user=request.user)
    if request.htmx:
        return render_room_main(request, access)
    return see_other(access.room.get_absolute_url())


@login_required
@require_POST
def room_leave_view(request, slug):
    access = readable_room_or_404(slug=slug, user=request.user)
    room_leave(room=access.room, user=request.user)
    if request.htmx and not access.room.is_private:
        return render_room_main(request, readable_room_or_404(slug=slug, user=request.user))
    if request.htmx:  # a private room is no longer readable: leave the page
        return HttpResponseClientRedirect("/")
    return see_other("/")
