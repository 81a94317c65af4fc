"""Message fragments for history pages, rendered once and kept in memory.

A message's fragment is the same for every viewer (what differs per viewer is CSS)
and changes only with what its key holds: its last change (edit, deletion, restore,
a reply to it, a pin, a reaction), its author's name and avatar, the names of those it
mentions, the names of who reacted, the original it quotes, its place in a run, the
room's slug and the template itself. So a page of 50 messages mostly reads strings it
rendered before instead of rendering 50 templates. Each process keeps its own bounded
cache (settings.CACHES["fragments"]): no network round trip, nothing to invalidate
across processes, nothing lost if Redis is.
"""

import hashlib

from django.core.cache import caches
from django.template.loader import get_template, render_to_string
from django.utils.safestring import mark_safe

from messages_app.parts import parts_prefetch
from messages_app.selectors import message_mention_names, reaction_groups_attach

TEMPLATE = "messages_app/partials/message.html"


def _template_version():
    """Changes with message.html (a deploy that changes it must not serve old HTML)."""
    source = get_template(TEMPLATE).template.source
    return hashlib.blake2b(source.encode(), digest_size=6).hexdigest()


def _key(message, *, room, highlight_id, version, thread):
    changed = message.changed_at.timestamp() if message.changed_at else 0
    # The author as shown: username, display name and avatar (a new avatar is a new name).
    author = message.author
    author = f"{author.username}\n{author.display_name}\n{author.avatar}" if author else ""
    author += repr(sorted(getattr(message, "mention_names", {}).items()))  # the names its mentions show
    author += _quoted(message)
    # Who reacted, by the names shown now: a reactor's new display name is a new key
    # (a toggle also bumps changed_at, for catch-up).
    author += repr([(g.emoji, g.user_ids, g.names) for g in getattr(message, "reaction_groups", ())])
    author = hashlib.blake2b(author.encode(), digest_size=8).hexdigest()  # a name may hold any character
    flags = f"{message.day_start:d}{message.continued:d}{message.pk == highlight_id:d}{thread:d}"
    return f"{version}:{room.slug}:{message.pk}:{changed}:{flags}:{author}"


def _quoted(message):
    """What a reply's quote shows of its original: its last change and its author as shown."""
    original = message.reply_to if message.reply_to_id else None
    if original is None:
        return ""
    changed = original.changed_at.timestamp() if original.changed_at else 0
    author = original.author
    return f"\n{changed}\n{author.username}\n{author.display_name}" if author else f"\n{changed}"


def message_fragments(messages, *, room, highlight_id=None, thread=False):
    """The HTML of `messages` (marked by selectors.message_runs) as one safe string;
    `thread`: for a thread's panel (ids of their own beside the room's list)."""
    messages = list(messages)
    message_mention_names(messages)
    reaction_groups_attach(messages)  # for every message: their names are part of its key
    cache, version = caches["fragments"], _template_version()
    marks = {"room": room, "highlight_id": highlight_id, "version": version, "thread": thread}
    keys = [_key(message, **marks) for message in messages]
    known = cache.get_many(keys)
    rendered = {}
    parts_prefetch([message for message, key in zip(messages, keys, strict=True) if key not in known])
    for message, key in zip(messages, keys, strict=True):
        if key not in known:
            context = {"message": message, "room": room, "highlight_id": highlight_id, "thread": thread}
            rendered[key] = render_to_string(TEMPLATE, context)
    if rendered:
        cache.set_many(rendered)
    return mark_safe("".join(known.get(key) or rendered[key] for key in keys))
