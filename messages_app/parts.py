"""Parts that apps above messages_app add to a message (attachments: its files).

messages_app may not import them (design.md section 5), so they register here, in
their AppConfig.ready(), and messages_app calls them at three moments:

- posting: what a POST to /rooms/<slug>/messages/ brought besides the body
  (request.FILES) goes to each part's `prepare` once the poster's membership and
  rates are checked, before the message is saved; `save` then runs in the message's
  transaction, and `discard` undoes a `prepare` whose message was not saved;
  `text` gives the lines that search finds the message by (Message.parts_text);
- reading: history pages prefetch each part's rows (`prefetch`, a lookup on Message);
- showing: message.html includes each part's `template` (the `message_parts` tag);
- exporting (messages_app/export.py): each exported message's JSON holds, under the
  part's `export_key`, what `export` makes of it, and the HTML file includes the
  part's `export_template` (self-contained: no thumbnails, no scripts).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import prefetch_related_objects


@dataclass(frozen=True)
class MessagePart:
    template: str
    prefetch: str
    # (files, *, room, author, imported) -> something for save, or None when the files
    # hold nothing for this part; raises MessageRejected to refuse the message.
    # `imported`: history brought in (message_import), not counted as live uploads.
    prepare: Callable[..., Any]
    save: Callable[..., None]  # (prepared, *, message)
    discard: Callable[[Any], None]  # (prepared)
    # (prepared, or the saved rows that `prefetch` names) -> lines for Message.parts_text
    text: Callable[[Any], list[str]]
    export_key: str  # e.g. "attachments"
    export: Callable[[Any], Any]  # (message, its rows prefetched) -> JSON-able data
    export_template: str


PARTS: list[MessagePart] = []


def message_part_register(part):
    if part not in PARTS:
        PARTS.append(part)


def parts_prepare(files, *, room, author, imported=False):
    """[(part, prepared)] for what `files` hold; all or nothing."""
    prepared = []
    try:
        for part in PARTS:
            result = part.prepare(files, room=room, author=author, imported=imported)
            if result is not None:
                prepared.append((part, result))
    except Exception:
        parts_discard(prepared)
        raise
    return prepared


def parts_save(prepared, *, message):
    for part, result in prepared:
        part.save(result, message=message)


def parts_text(prepared):
    """What search matches besides the body: each part's lines, one per line."""
    return "\n".join(line for part, result in prepared for line in part.text(result))


def parts_text_saved(message):
    """The same, from what a saved message holds now (after a part changed)."""
    rows = {part: list(getattr(message, part.prefetch).all()) for part in PARTS}
    return "\n".join(line for part in PARTS for line in part.text(rows[part]))


def parts_discard(prepared):
    for part, result in prepared:
        part.discard(result)


def parts_prefetch(messages):
    """The parts of a page of messages, in one query per part."""
    if PARTS and messages:
        prefetch_related_objects(list(messages), *(part.prefetch for part in PARTS))


def parts_known_empty(message):
    """A new message posted without parts: its fragment needs no query to know that."""
    cache = message.__dict__.setdefault("_prefetched_objects_cache", {})
    for part in PARTS:
        cache[part.prefetch] = getattr(message, part.prefetch).none()


def parts_export(message):
    """{export_key: data} of every part, for a message whose parts are prefetched."""
    return {part.export_key: part.export(message) for part in PARTS}
