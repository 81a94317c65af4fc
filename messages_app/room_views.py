"""The room page and the directory, which show rooms with their messages and
unread counts, and the views that answer with them (join, leave, invitations,
moderation from the page). They compose rooms and messages, so they live here,
above both."""

import uuid
from functools import partial

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.selectors import blocked_ids
from config.params import MAX_ID, id_param, int_param
from messages_app import moderation
from messages_app.models import ModerationAction
from messages_app.selectors import (
    ban_reason_get,
    membership_list_for_user,
    message_page_around,
    message_page_latest,
)
from messages_app.services import membership_mark_read
from messages_app.sidebar import home_context, home_html, sidebar_html
from rooms.forms import InvitationForm, InviteForm, RoomDeleteForm, RoomSettingsForm
from rooms.presence.roster import member_list_html, member_pane_context
from rooms.selectors import invitation_list_active
from rooms.services import (
    RoomError,
    RoomPermissionDenied,
    invitation_create,
    invitation_revoke,
    room_archive,
    room_delete,
    room_invitation_accept,
    room_invitation_decline,
    room_invite,
    room_join,
    room_leave,
    room_restore,
    room_settings_update,
)
from rooms.shortcuts import RoomBanned, invite_manager_or_403, readable_room_or_404, see_other

PAGE = ModerationAction.Source.PAGE
SLOW_MODE_CHOICES = [
    (0, "off"),
    (5, "5 seconds"),
    (10, "10 seconds"),
    (30, "30 seconds"),
    (60, "minute"),
    (300, "5 minutes"),
]


@login_required
def directory(request):
    """The home page: invitations to answer, my rooms, public rooms to discover."""
    return render(request, "rooms/directory.html", home_context(user=request.user))


def room_page_context(request, access, *, draft="", error="", around_id=None):
    """Everything the room page and its main partial show. Showing a member the
    newest messages marks the room read (in all their tabs). With `around_id` (a
    search result) the page shows that message among its neighbours instead."""
    synced_at = timezone.now()  # before reading: what changes later is caught up by time
    page = _message_page(access.room, around_id=around_id)
    messages_shown = page.messages
    if access.is_member and messages_shown:
        membership_mark_read(room=access.room, user=request.user, message_id=messages_shown[-1].pk)
    my_memberships = membership_list_for_user(user=request.user)
    direct_people = {person.pk for membership in my_memberships for person in membership.others}
    return {
        "room": access.room,
        "access": access,
        "messages_shown": messages_shown,
        "more_before": page.has_older,
        "more_after": page.has_newer,
        "highlight_id": around_id,
        # The online dots of the member list and of the sidebar's direct messages: one read.
        **member_pane_context(room=access.room, also_online=direct_people),
        "my_memberships": my_memberships,
        # The page folds these people's messages away (ui.js): fragments are shared by all readers.
        "blocked_ids": _blocked_ids(request, access),
        "slow_mode_choices": SLOW_MODE_CHOICES,
        "client_id": uuid.uuid4(),
        "synced_at": synced_at,
        "draft": draft,
        "error": error,
        **invite_panel_context(request, access),
    }


def _blocked_ids(request, access):
    """Read with the membership where the database can (rooms.selectors.room_access)."""
    annotated = getattr(access.membership, "blocked_ids", None)
    return annotated if annotated is not None else blocked_ids(user=request.user)


def _message_page(room, *, around_id):
    if around_id is None:
        return message_page_latest(room=room)
    page = message_page_around(room=room, message_id=around_id)
    if page is None:  # a forged id, or another room's message: nothing to show, nothing revealed
        raise Http404("No such message in this room.")
    return page


def render_room_page(request, access, *, status=200, **extra):
    return render(
        request, "rooms/room_detail.html", room_page_context(request, access, **extra), status=status
    )


def render_room_main(request, access, **extra):
    """The part of the page that changes on join and leave (for htmx requests), and
    the sidebar out of band: this tab's socket changes, so it would miss the news."""
    return render(
        request, "rooms/partials/room_main_changed.html", room_page_context(request, access, **extra)
    )


@login_required
def room_detail(request, slug):
    """The room at its newest messages, or around one (`?around=<id>`); to a banned
    member, the room's banned page."""
    try:
        access = readable_room_or_404(slug=slug, user=request.user)
    except RoomBanned as ban:
        return render_banned_page(request, ban.access)
    return render_room_page(request, access, around_id=id_param(request.GET, "around", lenient=True))


def render_banned_page(request, access):
    """Which room, why, the way back, and (its socket) the room again once the ban is
    lifted. Rendered, not raised: Django logs a raised PermissionDenied with a traceback."""
    context = {
        "room": access.room,
        "reason": ban_reason_get(room=access.room, user=request.user),
        "my_memberships": membership_list_for_user(user=request.user),
    }
    return render(request, "messages_app/banned.html", context, status=403)


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


# --- invitations ---------------------------------------------------------------

INVITATION_ANSWERS = {"accept": room_invitation_accept, "decline": room_invitation_decline}


@login_required
@require_POST
def room_invitation_answer(request, slug, answer):
    """Accept or decline an invitation, from the sidebar or the home page. htmx gets
    that page's lists again (the user's other tabs get them from their sockets)."""
    access = readable_room_or_404(slug=slug, user=request.user)
    INVITATION_ANSWERS[answer](room=access.room, user=request.user)
    declined_here = answer == "decline" and request.POST.get("current") == slug
    if not request.htmx:
        return see_other(access.room.get_absolute_url() if answer == "accept" else "/")
    if declined_here:  # the page shows a room the user has just left
        return HttpResponseClientRedirect("/")
    memberships = list(membership_list_for_user(user=request.user))
    if request.POST.get("shown_on") == "home":
        return HttpResponse(home_html(user=request.user, memberships=memberships))
    shown = request.POST.get("current")  # the room the page shows: its link stays marked current
    current = next((m.room for m in memberships if m.room.slug == shown), None)
    return HttpResponse(sidebar_html(memberships=memberships, current=current))


def invite_panel_context(request, access, *, invite_form=None, link_form=None, notice="", is_open=False):
    """The "Invite people" panel of the room page: for owners and moderators only
    (nobody else pays its query)."""
    if not access.can_invite:
        return {}
    invitations = invitation_list_active(room=access.room)
    for invitation in invitations:
        invitation.share_url = request.build_absolute_uri(invitation.get_absolute_url())
    return {
        "invitations": invitations,
        "invite_form": invite_form or InviteForm(),
        "link_form": link_form or InvitationForm(),
        "invite_notice": notice,
        "invite_panel_open": is_open,
    }


def render_invite_panel(request, access, **panel):
    context = {"room": access.room, "access": access, **invite_panel_context(request, access, **panel)}
    return render(request, "rooms/partials/invite_panel.html", context)


def invite_panel_done(request, access, notice):
    """After a change: the panel again (htmx), or back to the room with a notice."""
    if request.htmx:
        return render_invite_panel(request, access, notice=notice, is_open=True)
    messages.success(request, notice)
    return see_other(access.room.get_absolute_url())


def invite_panel_refused(request, access, **forms):
    """The panel with its errors, nothing changed. htmx swaps only 2xx answers, so
    it gets a 200; without JS the whole page comes back as a 400."""
    if request.htmx:
        return render_invite_panel(request, access, is_open=True, **forms)
    context = room_page_context(request, access)
    context.update(invite_panel_context(request, access, is_open=True, **forms))
    return render(request, "rooms/room_detail.html", context, status=400)


@login_required
@require_POST
def room_invite_view(request, slug):
    access = invite_manager_or_403(slug=slug, user=request.user)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            membership = room_invite(
                room=access.room, invited_by=request.user, username=form.cleaned_data["username"]
            )
        except RoomError as refusal:
            form.add_error("username", str(refusal))
        else:
            notice = f"{membership.user.username} is now a member of {access.room.name}."
            return invite_panel_done(request, access, notice)
    return invite_panel_refused(request, access, invite_form=form)


@login_required
@require_POST
def invitation_create_view(request, slug):
    access = invite_manager_or_403(slug=slug, user=request.user)
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation = invitation_create(
                room=access.room, created_by=request.user, expires_in=form.expires_in()
            )
        except RoomError as refusal:
            form.add_error("expires", str(refusal))
        else:
            url = request.build_absolute_uri(invitation.get_absolute_url())
            return invite_panel_done(request, access, f"Invite link created: {url}")
    return invite_panel_refused(request, access, link_form=form)


@login_required
@require_POST
def invitation_revoke_view(request, slug, pk):
    access = invite_manager_or_403(slug=slug, user=request.user)
    invitation = get_object_or_404(access.room.invitations, pk=pk)
    invitation_revoke(invitation=invitation, revoked_by=request.user)
    return invite_panel_done(request, access, "Invite link revoked: it no longer lets anyone in.")


# --- moderation from the room page (owners and moderators) ---------------------------------

MEMBER_ACTIONS = {
    "ban": moderation.member_ban,
    "unban": moderation.member_unban,
    "mute-1h": partial(moderation.member_mute, duration="1h"),
    "mute-24h": partial(moderation.member_mute, duration="24h"),
    "unmute": moderation.member_unmute,
    "promote": moderation.member_promote,
    "demote": moderation.member_demote,
}


@login_required
@require_POST
def member_moderate(request, slug, user_id, action):
    """Ban, mute or change the role of a member; the service checks the actor's
    rights in this room. Answers with the updated member list (every open page
    gets it too, from the broadcast)."""
    access = readable_room_or_404(slug=slug, user=request.user)
    service = MEMBER_ACTIONS.get(action)
    target = get_user_model().objects.filter(pk=user_id).first()
    if service is None or target is None:
        raise Http404("No such member action.")
    reason = request.headers.get("HX-Prompt") or request.POST.get("reason", "")
    try:
        service(room=access.room, user=target, actor=request.user, source=PAGE, reason=reason)
    except RoomError as refusal:
        return HttpResponseForbidden(str(refusal))
    if request.htmx:
        return HttpResponse(member_list_html(room=access.room))
    return see_other(access.room.get_absolute_url())


@login_required
@require_POST
def room_slow_mode(request, slug):
    access = readable_room_or_404(slug=slug, user=request.user)
    seconds = int_param(request.POST, "seconds", minimum=0, maximum=MAX_ID, default=-1)
    try:
        moderation.room_set_slow_mode(room=access.room, seconds=seconds, actor=request.user, source=PAGE)
    except RoomError as refusal:
        return HttpResponseForbidden(str(refusal))
    return see_other(access.room.get_absolute_url())


# --- the owner's room settings ------------------------------------------------------------


def _settings_done(request, url, notice=""):
    """After a change: the page again, loaded whole (its name, sidebar and composer may
    all have changed); to htmx, a client redirect to it. The room page shows the change
    itself (a flash there would push the composer below the fold), so only the
    directory gets a notice, after a deletion."""
    if notice:
        messages.success(request, notice)
    return HttpResponseClientRedirect(url) if request.htmx else see_other(url)


def _settings_refused(request, access, error, *, field):
    """The settings again, open, with the reason at the field refused (focused); nothing
    changed. htmx swaps only 2xx answers, so it gets a 200; without JS the whole page
    comes back as a 400."""
    refusal = {"settings_error": error, "settings_field": field}
    if request.htmx:
        context = {"room": access.room, "access": access, "slow_mode_choices": SLOW_MODE_CHOICES}
        return render(request, "rooms/partials/room_settings.html", {**context, **refusal})
    context = room_page_context(request, access)
    return render(request, "rooms/room_detail.html", {**context, **refusal}, status=400)


def _owner_access_or_403(*, slug, user):
    access = readable_room_or_404(slug=slug, user=user)
    if not access.is_owner:
        raise PermissionDenied("Only the room's owners can change its settings.")
    return access


@login_required
@require_POST
def room_settings_view(request, slug):
    """Rename the room, change its topic or make it private or public."""
    access = _owner_access_or_403(slug=slug, user=request.user)
    form = RoomSettingsForm(request.POST)
    if not form.is_valid():
        errors = " ".join(error for field_errors in form.errors.values() for error in field_errors)
        return _settings_refused(request, access, errors, field=next(iter(form.errors)))
    try:
        room_settings_update(room=access.room, actor=request.user, **form.cleaned_data)
    except RoomPermissionDenied as refusal:
        raise PermissionDenied(str(refusal)) from None
    except RoomError as refusal:
        return _settings_refused(request, access, str(refusal), field="name")
    return _settings_done(request, access.room.get_absolute_url())


@login_required
@require_POST
def room_archive_view(request, slug):
    access = _owner_access_or_403(slug=slug, user=request.user)
    room_archive(room=access.room, actor=request.user)
    return _settings_done(request, access.room.get_absolute_url())


@login_required
@require_POST
def room_restore_view(request, slug):
    access = _owner_access_or_403(slug=slug, user=request.user)
    room_restore(room=access.room, actor=request.user)
    return _settings_done(request, access.room.get_absolute_url())


@login_required
@require_POST
def room_delete_view(request, slug):
    """Delete the room for good, once its name is typed out; then the directory."""
    access = _owner_access_or_403(slug=slug, user=request.user)
    form = RoomDeleteForm(request.POST, room=access.room)
    if not form.is_valid():
        return _settings_refused(request, access, form.errors["confirm_name"][0], field="confirm_name")
    name = access.room.name
    room_delete(room=access.room, actor=request.user)
    return _settings_done(request, "/", f"{name} was deleted.")
