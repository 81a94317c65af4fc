"""What the reader chose for the look of the pages: the theme and whether the member
list is folded away (wide screens). Each is a cookie set by a small POST form and read
by the templates, so the page is rendered in the chosen look from its first byte and
no script has to apply or remember anything. They also work for visitors not logged
in (the sign-up page has the theme switch) and cost no query."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from accounts.services import user_block, user_unblock

# Name -> the values it may take, and the partial that shows it (swapped in by htmx).
PREFERENCES = {
    "theme": ({"light", "dark"}, "partials/theme_switch.html"),
    "members": ({"open", "closed"}, "rooms/partials/members_fold.html"),
}
ONE_YEAR = 365 * 24 * 60 * 60


def css_for_viewer(request):
    """The rules that differ per viewer (their own messages), served as a small
    stylesheet: the message fragments stay the same for every reader, and the
    Content Security Policy keeps refusing inline styles."""
    response = render(request, "accounts/viewer.css", content_type="text/css")
    # Its URL names the user (base.html): another user's browser never reuses it.
    named = request.GET.get("user") == str(request.user.pk)
    response["Cache-Control"] = "private, max-age=3600" if named else "no-store"
    return response


@require_POST
def preference_set(request, name):
    if name not in PREFERENCES or request.POST.get("value") not in PREFERENCES[name][0]:
        return HttpResponseBadRequest("No such choice.")
    value = request.POST["value"]
    return_to = request.POST.get("return_to", "")
    if request.htmx:
        context = {"choice": value, "return_to": return_to, "just_chosen": True}
        response = render(request, PREFERENCES[name][1], context)
    else:
        safe = url_has_allowed_host_and_scheme(return_to, {request.get_host()}, request.is_secure())
        response = HttpResponseRedirect(return_to if safe else "/", status=303)
    response.set_cookie(
        name, value, max_age=ONE_YEAR, samesite="Lax", httponly=True, secure=request.is_secure()
    )
    return response


@login_required
@require_POST
def person_block(request, username, block):
    """Block or unblock a person; the page is read again (its folded messages follow)."""
    person = get_object_or_404(get_user_model(), username=username)
    if person.pk == request.user.pk:
        return HttpResponseBadRequest("You cannot block yourself.")
    if block:
        user_block(blocker=request.user, blocked=person)
        messages.success(
            request, f"You blocked {person.username}: no direct messages, their messages folded."
        )
    else:
        user_unblock(blocker=request.user, blocked=person)
        messages.success(request, f"You unblocked {person.username}.")
    if request.htmx:
        return HttpResponseClientRefresh()
    return_to = request.POST.get("return_to", "")
    safe = url_has_allowed_host_and_scheme(return_to, {request.get_host()}, request.is_secure())
    return HttpResponseRedirect(return_to if safe else "/", status=303)
