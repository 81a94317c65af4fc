"""Pages of rooms that show no messages: creating a room and an invite link's page.
The room page itself, the directory and the views that answer with them are in
messages_app/room_views.py (they show messages and unread counts)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from rooms.forms import RoomForm
from rooms.selectors import invitation_get_active, membership_get
from rooms.services import InvitationGone, RoomError, invitation_accept, room_create
from rooms.shortcuts import see_other

BANNED = "You are banned from this room."


@login_required
def room_new(request):
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        room = room_create(created_by=request.user, **form.cleaned_data)
        return see_other(room.get_absolute_url())
    return render(request, "rooms/room_new.html", {"form": form})


def render_invitation(request, invitation, *, error="", status=200):
    context = {"invitation": invitation, "room": invitation.room, "error": error}
    return render(request, "rooms/invitation.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def invitation_detail(request, token):
    """An invite link: the room's name and topic and a Join button. An unknown,
    expired or revoked link is the same 404 as a missing room."""
    invitation = invitation_get_active(token=token)
    if invitation is None:
        raise Http404("No such room.")
    if request.method == "POST":
        return invitation_join(request, invitation)
    membership = membership_get(room=invitation.room, user=request.user)
    if membership is None:
        return render_invitation(request, invitation)
    if membership.is_banned:
        return render_invitation(request, invitation, error=BANNED, status=403)
    return see_other(invitation.room.get_absolute_url())


def invitation_join(request, invitation):
    try:
        invitation_accept(invitation=invitation, user=request.user)
    except InvitationGone:  # revoked or expired since the page was shown
        raise Http404("No such room.") from None
    except RoomError as refusal:
        return render_invitation(request, invitation, error=str(refusal), status=403)
    return see_other(invitation.room.get_absolute_url())
