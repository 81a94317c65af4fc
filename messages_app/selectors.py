"""Read-side queries for messages. Every history page is a keyset scan on
(room, id), so its cost does not grow with the room's age."""

from messages_app.models import Message

PAGE_SIZE = 50
CATCH_UP_LIMIT = 500


def _room_messages(room):
    return Message.objects.filter(room=room).select_related("author")


def message_list_latest(*, room, limit=PAGE_SIZE):
    """The newest messages of a room, oldest first."""
    newest_first = list(_room_messages(room).order_by("-id")[:limit])
    return newest_first[::-1]


def message_list_before(*, room, before_id, limit=PAGE_SIZE):
    """Up to `limit` messages older than `before_id`, oldest first."""
    newest_first = list(_room_messages(room).filter(id__lt=before_id).order_by("-id")[:limit])
    return newest_first[::-1]


def message_list_after(*, room, after_id, limit=CATCH_UP_LIMIT):
    """Messages newer than `after_id`, oldest first, and whether more follow."""
    messages = list(_room_messages(room).filter(id__gt=after_id).order_by("id")[: limit + 1])
    return messages[:limit], len(messages) > limit
