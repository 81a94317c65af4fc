"""Avatars drawn from text: a person's initials on one of a dozen colours.

The colour comes from the user id, so it is the same on every page and for
every viewer, and the fragment that shows it stays rendered once for everyone.
The colours are classes (`hue-0` … `hue-11` in chat.css, each with white text
at WCAG AA contrast): the Content Security Policy allows no inline style.
"""

import re

from django import template

register = template.Library()

HUE_COUNT = 12
# A step coprime with HUE_COUNT: consecutive ids (people who signed up together) get distant colours.
HUE_STEP = 5
NAME_PARTS = re.compile(r"[^\W_]+")


@register.filter
def initials(user):
    """Initials: AS for Alice Smith or alice_smith, A for alice, ? for a deleted user."""
    if user is None:
        return "?"
    parts = NAME_PARTS.findall(user.get_full_name()) or NAME_PARTS.findall(user.get_username())
    if not parts:  # a name of punctuation only
        return user.get_username()[:1].upper() or "?"
    return "".join(part[0] for part in parts[:2]).upper()


@register.filter
def hue(user_id):
    """The colour class of a user id (`hue-none` for a deleted user)."""
    if user_id in (None, ""):
        return "hue-none"
    return f"hue-{int(user_id) * HUE_STEP % HUE_COUNT}"
