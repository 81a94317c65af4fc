"""The times a message fragment shows, formatted once per message (and its body, with
the names of the people it mentions as they are now).

A history page renders fifty fragments; Django's `date` filter, asked for eight
formats of the same time per fragment, was a third of the page's time. The
strings are the same as those filters gave (English, the server's time zone:
the fragment is rendered once for every viewer, and ui.js shows local times).
"""

from dataclasses import dataclass

from django import template
from django.utils import timezone

from messages_app.fragments import message_fragments as fragments
from messages_app.text import mention_names_applied

register = template.Library()


@dataclass(frozen=True, slots=True)
class MessageTimes:
    day: str  # 2026-11-25: data-day, and the day separator's datetime
    day_label: str  # Wednesday, November 25, 2026
    iso: str  # the <time datetime>
    exact: str  # 2026-11-25 14:03:07 UTC: the hover title
    short: str  # Nov 25, 14:03: shown until ui.js makes it relative


@register.filter
def message_times(moment):
    local = timezone.localtime(moment)
    return MessageTimes(
        day=local.strftime("%Y-%m-%d"),
        day_label=f"{local:%A, %B} {local.day}, {local.year}",
        iso=local.isoformat(),
        exact=f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}",
        short=f"{local:%b} {local.day}, {local:%H:%M}",
    )


@register.filter
def exact_time(moment):
    """2026-11-25 14:03:07 UTC (an edit's hover title)."""
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


@register.simple_tag(takes_context=True)
def message_fragments(context, messages, thread=False):
    """A list of messages (messages_app/fragments.py: rendered once, then reused);
    `thread`: in a thread's panel, beside the room's own list."""
    return fragments(messages, room=context["room"], highlight_id=context.get("highlight_id"), thread=thread)


@register.filter
def body_with_names(message):
    """The message's safe HTML, its mentions naming people as they are called now
    (`mention_names`, set by services or fragments.py; else as stored: @username)."""
    return mention_names_applied(message.body_html, getattr(message, "mention_names", None))
