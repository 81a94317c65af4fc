"""`{% message_parts %}`: the parts that apps above messages_app add to a message
(messages_app/parts.py), each rendered from its own template."""

from django import template
from django.template.loader import get_template
from django.utils.safestring import mark_safe

from messages_app.parts import PARTS

register = template.Library()


@register.simple_tag(takes_context=True)
def message_parts(context):
    flat = context.flatten()
    return mark_safe("".join(get_template(part.template).render(flat) for part in PARTS))


@register.simple_tag(takes_context=True)
def message_export_parts(context):
    """The parts in a room's exported HTML file (messages_app/export.py)."""
    flat = context.flatten()
    return mark_safe("".join(get_template(part.export_template).render(flat) for part in PARTS))
