"""Avatars and names. An uploaded avatar shows as an image (accounts/images.py made
it); without one, a person's initials on one of a dozen colours.

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
    """Initials: AS for Alice Smith (display or full name) or alice_smith, A for alice,
    ? for a deleted user."""
    if user is None:
        return "?"
    parts = (
        NAME_PARTS.findall(user.display_name)
        or NAME_PARTS.findall(user.get_full_name())
        or NAME_PARTS.findall(user.get_username())
    )
    if not parts:  # a name of punctuation only
        return user.get_username()[:1].upper() or "?"
    return "".join(part[0] for part in parts[:2]).upper()


@register.filter
def hue(user_id):
    """The colour class of a user id (`hue-none` for a deleted user)."""
    if user_id in (None, ""):
        return "hue-none"
    return f"hue-{int(user_id) * HUE_STEP % HUE_COUNT}"


@register.filter
def avatar_url(user, size):
    """The URL of the user's avatar image at `size` px ("" with none: initials then)."""
    return user.avatar_url(int(size)) if user is not None else ""


@register.filter
def shown_name(user):
    """The display name, else the username; "deleted user" for a deleted one."""
    return user.shown_name if user is not None else "deleted user"


def _name_key(user):
    return user.shown_name.casefold()


@register.filter
def name_clashes(people):
    """The names (casefolded) that more than one of `people` (users, or rows with a
    `user`, such as memberships) would show: those need their username beside them.
    Computed from the list being rendered, so it costs no query."""
    seen, clashes = set(), set()
    for person in people:
        user = getattr(person, "user", person)
        if user is None:
            continue
        key = _name_key(user)
        (clashes if key in seen else seen).add(key)
    return clashes


@register.filter
def clashes_in(user, clashes):
    """Does this user's shown name clash with another's in the list (name_clashes)?"""
    return user is not None and _name_key(user) in clashes
