"""`message|reaction_groups`: a message's reactions bar (messages_app/reactions.py)."""

from django import template

from messages_app.reactions import QUICK_REACTIONS
from messages_app.selectors import reaction_groups_attach

register = template.Library()


@register.filter
def reaction_groups(message):
    """The groups attached by a page's one query (selectors.reaction_groups_attach),
    else read now: one message rendered alone (an edit, a view) costs one query."""
    if not hasattr(message, "reaction_groups"):
        reaction_groups_attach([message])
    return message.reaction_groups


@register.simple_tag
def quick_reactions():
    return QUICK_REACTIONS
