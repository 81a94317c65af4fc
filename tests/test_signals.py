"""messages_app's signals: how the apps above it hear of messages (design.md section 5)."""

import pytest
from django.db import transaction

from messages_app.services import message_delete, message_edit, message_post
from messages_app.signals import message_deleted, message_edited, message_posted
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    """Connects a recording receiver to a signal for the test's duration."""
    connected = []

    def listen(signal):
        events = []

        def receiver(sender, message, **kwargs):
            events.append((message.pk, kwargs))

        signal.connect(receiver, weak=False)
        connected.append((signal, receiver))
        return events

    yield listen
    for signal, receiver in connected:
        signal.disconnect(receiver)


def test_message_posted_is_sent_after_commit_with_the_mentions(
    room, member, heard, django_capture_on_commit_callbacks
):
    posted = heard(message_posted)
    mentioned = MembershipFactory(room=room, user__username="grace").user
    with django_capture_on_commit_callbacks() as callbacks:
        message = message_post(room=room, author=member, body="hi @grace")
    assert posted == []  # not before the commit
    for callback in callbacks:
        callback()
    assert posted == [(message.pk, {"signal": message_posted, "mentioned_ids": [mentioned.pk]})]


def test_nothing_is_sent_for_a_post_that_is_rolled_back(
    room, member, heard, django_capture_on_commit_callbacks
):
    posted = heard(message_posted)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        message_post(room=room, author=member, body="taken back")
        raise RuntimeError
    assert posted == []


def test_edits_and_deletions_are_sent_after_commit(room, member, heard, django_capture_on_commit_callbacks):
    edited, deleted = heard(message_edited), heard(message_deleted)
    with django_capture_on_commit_callbacks(execute=True):
        message = message_post(room=room, author=member, body="first")
    with django_capture_on_commit_callbacks(execute=True):
        message_edit(room=room, user=member, message_id=message.pk, body="second")
    with django_capture_on_commit_callbacks(execute=True):
        message_delete(room=room, user=member, message_id=message.pk)
    assert [pk for pk, _ in edited] == [message.pk]
    assert [pk for pk, _ in deleted] == [message.pk]


@pytest.mark.allow_error_log  # the broken receiver's traceback is the point
def test_a_failing_receiver_is_logged_and_the_others_still_hear(
    room, member, heard, caplog, django_capture_on_commit_callbacks
):
    def broken(sender, **kwargs):
        raise ValueError("receiver bug")

    message_posted.connect(broken, weak=False)
    try:
        posted = heard(message_posted)
        with django_capture_on_commit_callbacks(execute=True):
            message = message_post(room=room, author=member, body="still posted")
    finally:
        message_posted.disconnect(broken)
    assert [pk for pk, _ in posted] == [message.pk]
    assert "receiver bug" in caplog.text
