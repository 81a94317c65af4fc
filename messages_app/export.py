"""A room's history as one file, JSON or self-contained HTML (design.md section 6),
for `GET /rooms/<slug>/export/` and `manage.py export_room`.

The file is written a page of messages at a time, oldest first: a keyset scan on
(room, id) like the history pages, the authors joined and the parts (attachments)
prefetched per page. Memory holds one page whatever the room's size, and the queries
grow with the pages, never with the messages. Deleted messages are left out.
Times are in UTC.
"""

import json
from datetime import UTC

from django.template.loader import render_to_string
from django.utils import timezone

from messages_app.models import Message
from messages_app.parts import parts_export, parts_prefetch
from messages_app.selectors import message_mention_names, reaction_groups_attach

# Messages per query: big enough that a million messages are 500 queries, small enough
# that a page of long messages stays a few megabytes.
EXPORT_PAGE_SIZE = 2000
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "html": "text/html; charset=utf-8"}
EXPORT_FORMATS = frozenset(CONTENT_TYPES)


def export_pages(room, *, page_size=None):
    """The room's messages that are not deleted, oldest first, a list per query."""
    page_size = page_size or EXPORT_PAGE_SIZE
    messages = Message.objects.filter(room=room, deleted_at__isnull=True).select_related(
        "author", "link_preview"
    )
    last_id = 0
    while True:
        page = list(messages.filter(id__gt=last_id).order_by("id")[:page_size])
        if not page:
            return
        parts_prefetch(page)
        reaction_groups_attach(page)
        yield page
        if len(page) < page_size:
            return
        last_id = page[-1].pk


def export_file_name(room, *, export_format, exported_at):
    return f"{room.slug}-{exported_at.astimezone(UTC):%Y-%m-%d}.{export_format}"


def export_chunks(room, *, export_format, exported_at=None, base_url=""):
    """The export's text, piece by piece (a string per page of messages)."""
    exported_at = exported_at or timezone.now()
    if export_format == "html":
        return _html_chunks(room, exported_at=exported_at, base_url=base_url)
    return _json_chunks(room, exported_at=exported_at)


def _utc(moment):
    return moment.astimezone(UTC).isoformat() if moment else None


def _room_data(room, *, exported_at):
    return {"slug": room.slug, "name": room.name, "kind": room.kind, "exported_at": _utc(exported_at)}


def _author_data(user):
    if user is None:  # the author's account was deleted
        return None
    return {"username": user.username, "display_name": user.display_name}


def message_export_data(message):
    """One message as the JSON export holds it (its parts prefetched)."""
    return {
        "id": message.pk,
        "author": _author_data(message.author),
        "created_at": _utc(message.created_at),
        "edited_at": _utc(message.edited_at),
        "body": message.body,
        "reply_to": message.reply_to_id,
        "pinned_at": _utc(message.pinned_at),
        "link_preview": _link_preview_data(message),
        "reactions": [
            {"emoji": group.emoji, "count": group.count, "people": list(group.names)}
            for group in message.reaction_groups
        ],
        **parts_export(message),
    }


def _link_preview_data(message):
    """The card's link and title (a card its author removed is not exported)."""
    preview = getattr(message, "link_preview", None)
    if preview is None or preview.removed_at:
        return None
    return {"url": preview.url, "title": preview.title}


def _json_chunks(room, *, exported_at):
    """{"room": {...}, "messages": [...]}: a valid document once the last piece is out."""
    yield '{"room": ' + json.dumps(_room_data(room, exported_at=exported_at)) + ', "messages": ['
    separator = "\n"
    for page in export_pages(room):
        yield separator + ",\n".join(json.dumps(message_export_data(message)) for message in page)
        separator = ",\n"
    yield "\n]}\n"


def _html_chunks(room, *, exported_at, base_url):
    context = {"room": room, "exported_at": exported_at, "base_url": base_url}
    yield _render_utc("messages_app/export/start.html", context)
    for page in export_pages(room):
        message_mention_names(page)  # mentions name people as they are called now
        yield _render_utc("messages_app/export/messages.html", {**context, "messages": page})
    yield _render_utc("messages_app/export/end.html", context)


def _render_utc(template, context):
    """Times as the JSON gives them, whatever zone the request (or the server) is in.
    Per piece, not around the yields: a streamed response resumes the generator later."""
    with timezone.override(UTC):
        return render_to_string(template, context)
