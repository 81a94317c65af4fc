from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect

from rooms.selectors import room_access


class RoomBanned(PermissionDenied):
    """The user is banned from the room: a 403 that carries their RoomAccess, so that
    the room page can say which room and why (messages_app/room_views.py)."""

    def __init__(self, access):
        super().__init__("You are banned from this room.")
        self.access = access


def readable_room_or_404(*, slug, user):
    """The user's RoomAccess for a room they may read.

    A missing room and a private room the user is not in look the same (404), so
    nobody learns that a private room exists; a ban is a 403 that says why.
    """
    access = room_access(slug=slug, user=user)
    if access is None:
        raise Http404("No such room.")
    if access.is_banned:
        raise RoomBanned(access)
    return access


def invite_manager_or_403(*, slug, user):
    """The RoomAccess of an owner or moderator, who may invite people.

    Anyone else who can see the room (a plain member, a reader of a public room)
    gets 403: they know the room exists, so a 404 would hide nothing. A private
    room stays a 404 for non-members, like everywhere else.
    """
    access = readable_room_or_404(slug=slug, user=user)
    if not access.can_invite:
        raise PermissionDenied("Only the room's owners and moderators can invite people.")
    return access


def see_other(url):
    """A 303 redirect: after a POST, the browser GETs the next page."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def refused_form_status(request):
    """The status of a form sent back with the reason it was refused: 400, but 200 to
    htmx, which swaps only 2xx answers (and the browser logs every 4xx as an error)."""
    return 200 if request.htmx else 400
