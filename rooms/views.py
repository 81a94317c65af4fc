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

from accounts.selectors import person_list_named, person_search
from config.params import text_list_param, text_param
from rooms.forms import RoomForm
from rooms.selectors import invitation_get_active, membership_get
from rooms.services import (
    DIRECT_MAX_OTHERS,
    DirectBlocked,
    InvitationGone,
    RoomError,
    direct_conversation_open,
    direct_size_check,
    invitation_accept,
    room_create,
)
from rooms.shortcuts import see_other

BANNED = "You are banned from this room."
PICKER_LIMIT = 50  # people listed at once: more, and the picker asks for more of a name
PICKER_READ_MAX = 50  # usernames of one form read at most (the picker never sends more)
PICKER_QUERY_MAX = 100


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


def _picked_usernames(data, *, user):
    """The `users` of a picker's form, in order, each once, me left out."""
    return [name for name in text_list_param(data, "users") if name != user.username]


def _picker_context(request, *, picked_names, error=""):
    data = request.POST if request.method == "POST" else request.GET
    query = text_param(data, "q", keep=PICKER_QUERY_MAX)
    picked = person_list_named(usernames=picked_names[:PICKER_READ_MAX], exclude=request.user)
    people = person_search(
        user=request.user, query=query, exclude_ids=[p.pk for p in picked], limit=PICKER_LIMIT + 1
    )
    return {
        "query": query,
        "picked": picked,
        "people": people[:PICKER_LIMIT],
        "listed": [*picked, *people[:PICKER_LIMIT]],
        "more": len(people) > PICKER_LIMIT,
        "error": error,
        "max_others": DIRECT_MAX_OTHERS,
    }


def render_picker(request, *, picked_names, error="", status=200):
    """The people picker: those picked first (kept checked through any filter), then
    the people whose name matches `q`. To htmx's live filter, the list alone."""
    context = _picker_context(request, picked_names=picked_names, error=error)
    if request.htmx and request.method == "GET":
        return render(request, "rooms/partials/direct_people.html", {**context, "oob": True})
    return render(request, "rooms/direct_new.html", context, status=status)


def _picker_refused(request, refusal, *, picked_names, status):
    if request.htmx:
        return _direct_refused(request, refusal, status=status)
    return render_picker(request, picked_names=picked_names, error=str(refusal), status=status)


class PersonUnknown(RoomError):
    """A username of the form names nobody."""


def _picked_people(names, *, user):
    if not names:
        raise RoomError("Pick at least one person to talk to.")
    direct_size_check(len(names))  # refused before reading that many rows
    people = person_list_named(usernames=names, exclude=user)
    unknown = sorted(set(names) - {person.username for person in people})
    if unknown:
        raise PersonUnknown(f"No one is called {', '.join(unknown)}.")
    return people


@login_required
@require_http_methods(["GET", "POST"])
def direct_new(request):
    """A new conversation: the picker (GET), or its people (`users=<username>`,
    repeated, 1 to 8 besides me): one person is the conversation between the two of
    us, as "Message" on them; more make a group. A refusal shows the picker again,
    with the reason and the people picked."""
    if request.method == "GET":
        return render_picker(request, picked_names=_picked_usernames(request.GET, user=request.user))
    names = _picked_usernames(request.POST, user=request.user)
    try:
        others = _picked_people(names, user=request.user)
        room = direct_conversation_open(user=request.user, others=others)
    except PersonUnknown as refusal:
        return _picker_refused(request, refusal, picked_names=names, status=404)
    except DirectBlocked as refusal:
        return _picker_refused(request, refusal, picked_names=names, status=403)
    except RoomError as refusal:
        return _picker_refused(request, refusal, picked_names=names, status=400)
    url = room.get_absolute_url()
    return HttpResponseClientRedirect(url) if request.htmx else see_other(url)
