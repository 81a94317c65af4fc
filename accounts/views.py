"""The profile page, the avatar files, and what the reader chose for the look of the pages.

The look: the theme and whether the member list is folded away (wide screens). Each
is a cookie set by a small POST form and read by the templates, so the page is
rendered in the chosen look from its first byte and no script has to apply or
remember anything. They also work for visitors not logged in (the sign-up page has
the theme switch) and cost no query."""

import re

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from accounts import services
from accounts.forms import STATUS_EMOJI_SUGGESTIONS, ProfileForm
from accounts.models import AVATAR_SIZES
from accounts.selectors import local_time
from accounts.services import user_block, user_unblock
from config.params import choice_param
from config.stored_files import stored_file_response

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
    if name not in PREFERENCES:
        return HttpResponseBadRequest("No such choice.")
    value = choice_param(request.POST, "value", PREFERENCES[name][0])
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
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    """Edit my profile. One transaction: a refused field (a picture that is not one,
    say) saves nothing, and the old avatar stays."""
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES, has_avatar=bool(user.avatar))
        if form.is_valid() and _profile_save(user, form):
            messages.success(request, "Your profile is saved.")
            return HttpResponseRedirect(request.path, status=303)
        status = 400
    else:
        initial = {
            "display_name": user.display_name,
            "status_emoji": user.status_emoji,
            "status": user.status_text,
            "time_zone": user.time_zone,
        }
        form, status = ProfileForm(initial=initial, has_avatar=bool(user.avatar)), 200
    context = {
        "form": form,
        "profile": user,
        "local_time": local_time(time_zone=user.time_zone),
        "emoji_suggestions": STATUS_EMOJI_SUGGESTIONS,
    }
    return render(request, "accounts/profile.html", context, status=status)


def _profile_save(user, form):
    data = form.cleaned_data
    try:
        with transaction.atomic():
            services.profile_update(
                user=user,
                display_name=data["display_name"],
                status_emoji=data["status_emoji"],
                status_text=data["status"],
                time_zone=data["time_zone"],
            )
            if data["avatar"]:
                services.avatar_set(user=user, upload=data["avatar"])
            elif data.get("avatar_clear"):
                services.avatar_clear(user=user)
    except ValidationError as refusal:
        user.refresh_from_db()  # the page shows what is stored, not the refused values
        form.add_error(None, refusal)
        return False
    return True


AVATAR_FILE = re.compile(r"\d+-[0-9a-f]{32}-(\d+)\.webp")  # as avatar_set names them
AVATAR_MAX_AGE = 365 * 24 * 3600


@require_GET
def avatar_file(request, name):
    """An avatar file. Pages always link here (User.avatar_url), whatever the storage:
    from the local disk the app streams it, from an object store it redirects to a
    signed URL (config/stored_files.py). Names are random and never reused (a new
    avatar is a new name), so browsers may keep the file for a year without asking
    again. Only names that avatar_set makes are looked up: nothing else of the
    storage can be reached through this URL."""
    match = AVATAR_FILE.fullmatch(name)
    if not match or int(match.group(1)) not in AVATAR_SIZES:
        raise Http404("No such avatar.")
    return stored_file_response(
        f"{services.AVATAR_DIRECTORY}/{name}",
        content_type="image/webp",
        max_age=AVATAR_MAX_AGE,
        public=True,
        immutable=True,
    )


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
