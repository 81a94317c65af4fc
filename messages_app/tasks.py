"""Background work of messages_app, run by the worker (`manage.py worker`): link
previews (messages_app/previews.py), fetched off the request's and the consumer's path.

The receivers below hear of posts and edits through messages_app's own signals (sent
after commit) and only decide whether there is a card to fetch."""

import logging

from django.db import DatabaseError
from django_tasks import task

from messages_app.models import LinkPreview, Message
from messages_app.previews import PreviewRefused, card_fetch, first_link
from messages_app.services import link_preview_forget, link_preview_store
from messages_app.signals import message_edited, message_posted

logger = logging.getLogger(__name__)


@task()
def link_preview_fetch(message_id):
    """Make the message's card match its first link: fetched and stored, or taken away
    when the link went or gives none; never for a card its author removed. What it did."""
    message = Message.objects.filter(pk=message_id, deleted_at=None).select_related("link_preview").first()
    if message is None:
        return "gone"
    url, card = first_link(message.body_html), getattr(message, "link_preview", None)
    if card is not None and (card.removed_at or card.url == url):
        return "unchanged"
    if url is None:
        return "forgotten" if link_preview_forget(message_id=message_id) else "no link"
    try:
        fetched = card_fetch(url)
    except PreviewRefused as refusal:
        logger.info("link preview refused message=%s: %s", message_id, refusal)
        link_preview_forget(message_id=message_id)
        return "refused"
    return "stored" if link_preview_store(message_id=message_id, card=fetched) else "outdated"


def _enqueue(message):
    try:
        link_preview_fetch.enqueue(message.pk)
    except DatabaseError as error:  # the message stands; only its card is lost
        logger.warning("link preview not queued message=%s: %s", message.pk, str(error).splitlines()[0])


def _message_posted(sender, message, **kwargs):
    if first_link(message.body_html):
        _enqueue(message)


def _message_edited(sender, message, **kwargs):
    """Only when the edit changed the first link, and the author kept the card."""
    url = first_link(message.body_html)
    card = LinkPreview.objects.filter(message=message).only("url", "removed_at").first()
    if card is None and url is None:
        return
    if card is not None and (card.removed_at or card.url == url):
        return
    _enqueue(message)


def connect():
    message_posted.connect(_message_posted, dispatch_uid="messages_app.link_preview_posted")
    message_edited.connect(_message_edited, dispatch_uid="messages_app.link_preview_edited")
