from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from config.params import choice_param, datetime_param, id_param, text_param
from config.security import CONTENT_SECURITY_POLICY, HEADER
from config.stored_files import stored_file_response
from messages_app.export import CONTENT_TYPES, EXPORT_FORMATS, export_chunks, export_file_name
from messages_app.frames import FrameError, parse_client_id
from messages_app.models import Message
from messages_app.reactions import QUICK_REACTIONS
from messages_app.room_views import render_room_page
from messages_app.search import QUERY_MAX_LENGTH
from messages_app.selectors import (
    link_preview_image_get,
    message_list_after,
    message_list_changed_since,
    message_mention_names,
    message_page_before,
    message_run_of,
    message_search_all,
    message_search_room,
    reaction_groups_attach,
)
from messages_app.services import (
    MessageRejected,
    link_preview_remove,
    message_delete,
    message_edit,
    message_post,
    reaction_toggle,
    report_create,
)
from rooms.shortcuts import readable_room_or_404, refused_form_status, see_other


@login_required
@require_http_methods(["GET", "POST"])
def room_messages(request, slug):
    """GET: a page of history (`?before=<id>`) or a catch-up (`?after=<id>`).
    POST: send a message without a WebSocket (the same service as the socket)."""
    access = readable_room_or_404(slug=slug, user=request.user)
    if request.method == "POST":
        return _post_message(request, access)
    return _history_fragment(request, access)


def _history_fragment(request, access):
    before, after = id_param(request.GET, "before"), id_param(request.GET, "after")
    if before is not None:
        page = message_page_before(room=access.room, before_id=before)
        context = {"messages_shown": page.messages, "more_before": page.has_older}
    elif after is not None:
        messages, has_more = message_list_after(room=access.room, after_id=after)
        context = {"messages_shown": messages, "more_after": has_more, **_changes_context(request, access)}
    else:
        return HttpResponseBadRequest("Ask for ?before=<id> or ?after=<id>.")
    return render(request, "messages_app/partials/message_list.html", {"room": access.room, **context})


def _changes_context(request, access):
    """For a reconnecting page (`&changed_since=<time>`): the edits and deletions it
    may have missed, as in-place replacements, and the time it is now synced to."""
    since = datetime_param(request.GET, "changed_since")
    if since is None:
        return {}
    synced_at = timezone.now()  # before reading: a change made meanwhile is fetched next time
    changed = message_list_changed_since(room=access.room, since=since)
    return {"changed_messages": changed, "synced_at": synced_at}


def _post_message(request, access):
    """A plain form post (no JavaScript) answers with the room page; the page's own
    upload of files (htmx-like, with HX-Request) with no content, or the refusal as
    the composer's error fragment (200: a 4xx would be a console error)."""
    body = request.POST.get("body", "")
    try:
        client_id = parse_client_id(request.POST.get("client_id"))
        files = request.FILES.getlist("file")
        reply_to = id_param(request.POST, "reply_to")
        message_post(
            room=access.room,
            author=request.user,
            body=body,
            client_id=client_id,
            files=files,
            reply_to=reply_to,
        )
    except (FrameError, MessageRejected) as refusal:
        if request.htmx:
            return render(request, "messages_app/partials/composer_errors.html", {"error": str(refusal)})
        return render_room_page(request, access, status=400, draft=body, error=str(refusal))
    if request.htmx:
        return HttpResponse(status=204)
    return see_other(access.room.get_absolute_url())


def _message_or_404(access, pk):
    return get_object_or_404(Message.objects.select_related("author"), room=access.room, pk=pk)


def _render_message(request, access, message, *, status=200):
    message_mention_names([message])
    context = {"message": message_run_of(message), "room": access.room}
    return render(request, "messages_app/partials/message.html", context, status=status)


@login_required
@require_GET
def message_detail(request, slug, pk):
    """One message as it is shown in the list (used to cancel an edit)."""
    access = readable_room_or_404(slug=slug, user=request.user)
    return _render_message(request, access, _message_or_404(access, pk))


@login_required
@require_http_methods(["GET", "POST"])
def message_edit_view(request, slug, pk):
    """GET: the inline edit form. POST: save through message_edit; every open page,
    this one included, gets the new version from the broadcast."""
    access = readable_room_or_404(slug=slug, user=request.user)
    message = _message_or_404(access, pk)
    if request.method == "GET":
        if message.author_id != request.user.pk or message.is_deleted:
            return _render_message(request, access, message, status=403)
        return render(
            request, "messages_app/partials/message_edit_form.html", {"message": message, "room": access.room}
        )
    body = request.POST.get("body", "")
    try:
        message = message_edit(room=access.room, user=request.user, message_id=pk, body=body)
    except MessageRejected as refusal:
        context = {"message": message, "room": access.room, "draft": body, "error": str(refusal)}
        status = refused_form_status(request)
        return render(request, "messages_app/partials/message_edit_form.html", context, status=status)
    if request.htmx:
        return _render_message(request, access, message)
    return see_other(access.room.get_absolute_url())


@login_required
@require_POST
def message_delete_view(request, slug, pk):
    return _message_changed_by(request, slug, pk, change=message_delete)


def _message_changed_by(request, slug, pk, *, change):
    """Apply `change` (a service taking room, user and message_id) to one message: to
    htmx, the message as it is now (every other page gets it from the broadcast)."""
    access = readable_room_or_404(slug=slug, user=request.user)
    try:
        message = change(room=access.room, user=request.user, message_id=pk)
    except MessageRejected as refusal:
        return HttpResponseForbidden(str(refusal))
    if request.htmx:
        return _render_message(request, access, message)
    return see_other(access.room.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def message_report_view(request, slug, pk):
    """GET: a small form to report a message. POST: queue the report for staff."""
    access = readable_room_or_404(slug=slug, user=request.user)
    message = _message_or_404(access, pk)
    context = {"message": message, "room": access.room}
    if request.method == "GET":
        return render(request, "messages_app/partials/report_form.html", context)
    reason = request.POST.get("reason", "")
    try:
        report_create(room=access.room, reporter=request.user, message_id=pk, reason=reason)
    except MessageRejected as refusal:
        context.update(error=str(refusal), reason=reason)
        status = refused_form_status(request)
        return render(request, "messages_app/partials/report_form.html", context, status=status)
    if request.htmx:
        return render(request, "messages_app/partials/report_done.html", context)
    return see_other(access.room.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def message_reactions_view(request, slug, pk):
    """GET: the quick reactions for one message, as a page (the React link without
    JavaScript). POST `emoji`: toggle mine (reaction_toggle); every page, this one
    included, gets the message's new reactions bar from the broadcast. To htmx the bar
    itself, so the clicking page updates even while its socket is down."""
    access = readable_room_or_404(slug=slug, user=request.user)
    message = _message_or_404(access, pk)
    context = {"message": message, "room": access.room, "quick_reactions": QUICK_REACTIONS}
    if request.method == "GET":
        return render(request, "messages_app/reaction_page.html", context)
    try:
        reaction_toggle(room=access.room, user=request.user, message_id=pk, emoji=request.POST.get("emoji"))
    except MessageRejected as refusal:
        if request.htmx:
            return _reaction_refused_to_htmx(request, access, context, refusal)
        context["error"] = str(refusal)
        return render(request, "messages_app/reaction_page.html", context, status=400)
    if request.htmx:
        reaction_groups_attach([message])
        return render(request, "messages_app/partials/reactions.html", context)
    return see_other(f"{access.room.get_absolute_url()}#message-{message.pk}")


def _reaction_refused_to_htmx(request, access, context, refusal):
    """200 (htmx swaps no 4xx): to a member, the refusal where the composer's go, out of
    band, the bar left as it is; a reader's page has no composer: its bar, unchanged."""
    if not access.is_member:
        reaction_groups_attach([context["message"]])
        return render(request, "messages_app/partials/reactions.html", context)
    response = render(request, "messages_app/partials/composer_errors.html", {"error": str(refusal)})
    response["HX-Reswap"] = "none"
    return response


@login_required
@require_GET
@vary_on_headers("HX-Request")
def search(request):
    """Search every room the user may read."""
    return _search_response(request, room=None)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def room_search(request, slug):
    """Search one room (a private room only for its members, like its page)."""
    access = readable_room_or_404(slug=slug, user=request.user)
    return _search_response(request, room=access.room)


def _search_response(request, *, room):
    """The search page; to htmx, the results (for the search box) or the next
    page of results (for the "Older results" link, which sends ?before=)."""
    query = text_param(request.GET, "q")
    context = {"room": room, "query": query, "search_url": request.path, "query_max_length": QUERY_MAX_LENGTH}
    if len(query) > QUERY_MAX_LENGTH:
        context["error"] = f"Search for at most {QUERY_MAX_LENGTH} characters."
    elif query:
        context["page"] = _search_page(request, room=room, query=query)
    if not request.htmx:
        return render(request, "messages_app/search.html", context, status=400 if "error" in context else 200)
    # htmx does not swap a 4xx response: the error is shown with a 200.
    if "before" in request.GET:
        return render(request, "messages_app/partials/search_result_items.html", context)
    return render(request, "messages_app/partials/search_results.html", context)


def _search_page(request, *, room, query):
    before = id_param(request.GET, "before")
    if room is None:
        return message_search_all(user=request.user, query=query, before_id=before)
    return message_search_room(user=request.user, room=room, query=query, before_id=before)


@login_required
@require_GET
def room_export(request, slug):
    """The room's history as a file to download (`?format=json`, the default, or
    `html`), streamed a page of messages at a time (messages_app/export.py)."""
    access = readable_room_or_404(slug=slug, user=request.user)
    export_format = choice_param(request.GET, "format", EXPORT_FORMATS, default="json")
    exported_at = timezone.now()
    chunks = export_chunks(
        access.room,
        export_format=export_format,
        exported_at=exported_at,
        base_url=request.build_absolute_uri("/"),
    )
    response = StreamingHttpResponse(_streamed(request, chunks), content_type=CONTENT_TYPES[export_format])
    name = export_file_name(access.room, export_format=export_format, exported_at=exported_at)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _streamed(request, chunks):
    """Under ASGI, Django reads a plain iterator into one list before sending any of
    it (StreamingHttpResponse.__aiter__): there, step it a piece at a time instead, in
    the request's thread (thread-sensitive), which holds its database connection."""
    if not isinstance(request, ASGIRequest):
        return chunks

    async def pieces():
        step = sync_to_async(next, thread_sensitive=True)
        try:
            while (piece := await step(chunks, None)) is not None:
                yield piece
        finally:
            await sync_to_async(chunks.close, thread_sensitive=True)()

    return pieces()


@login_required
@require_POST
def link_preview_remove_view(request, slug, pk):
    """The author takes the link preview card off their message; every open page loses it."""
    return _message_changed_by(request, slug, pk, change=link_preview_remove)


@login_required
@require_GET
def link_preview_image(request, slug, pk):
    """Our stored copy of a card's picture (never the remote one), to those who may
    read the room; sandboxed like an attachment opened in a tab."""
    access = readable_room_or_404(slug=slug, user=request.user)
    preview = link_preview_image_get(room=access.room, message_id=pk)
    if preview is None:
        raise Http404("No such picture.")
    response = stored_file_response(
        preview.image.name, content_type="image/webp", download_name="preview.webp", max_age=3600
    )
    response[HEADER] = f"{CONTENT_SECURITY_POLICY}; sandbox"
    return response
