"""Online dots: how often a page asks again who is online (static/js/ui.js)."""

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def presence_poll_ms():
    return int(settings.CHAT_PRESENCE_POLL_SECONDS * 1000)
