"""Pages of rooms that show no messages: creating a room, an invite link's page, and
opening a direct conversation (which then shows as any room's page).
The room page itself, the directory and the views that answer with them are in
messages_app/room_views.py (they show messages and unread counts)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from rooms.forms import RoomForm
from rooms.selectors import invitation_get_active, membership_get
from rooms.services import (
    DIRECT_MAX_OTHERS,
    DirectBlocked,
    InvitationGone,
    RoomError,
    direct_conversation_open,
    invitation_accept,
    room_create,
)
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


# --- direct conversations ---------------------------------------------------------------


def _person_or_404(username):
    return get_object_or_404(get_user_model(), username=username)


def _direct_refused(request, refusal, *, status):
    """The reason, in words: to htmx (which swaps only 2xx) as a notice on the page it
    came from, otherwise as a small page."""
    if request.htmx:
        messages.error(request, str(refusal))
        return HttpResponseClientRefresh()
    return render(request, "rooms/direct_refused.html", {"error": str(refusal)}, status=status)


def _direct_open(request, others):
    try:
        room = direct_conversation_open(user=request.user, others=others)
    except DirectBlocked as refusal:
        return _direct_refused(request, refusal, status=403)
    except RoomError as refusal:
        return _direct_refused(request, refusal, status=400)
    url = room.get_absolute_url()
    return HttpResponseClientRedirect(url) if request.htmx else see_other(url)


@login_required
@require_POST
def direct_with_person(request, username):
    """ "Message" on a person: the conversation with them, always the same one."""
    return _direct_open(request, [_person_or_404(username)])


@login_required
@require_POST
def direct_new(request):
    """A group conversation: `users=<username>`, repeated, 2 to 8 people besides me."""
    usernames = list(dict.fromkeys(name.strip() for name in request.POST.getlist("users") if name.strip()))
    if len(usernames) > DIRECT_MAX_OTHERS + 1:  # refused before reading that many rows
        refusal = RoomError(f"A conversation can have at most {DIRECT_MAX_OTHERS} people besides you.")
        return _direct_refused(request, refusal, status=400)
    others = [_person_or_404(username) for username in usernames if username != request.user.username]
    if len(others) < 2:
        refusal = RoomError("A group conversation needs at least two people besides you.")
        return _direct_refused(request, refusal, status=400)
    return _direct_open(request, others)
