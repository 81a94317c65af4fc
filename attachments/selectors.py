"""Read-side queries for attachments."""

from attachments.models import Attachment

FILES_PAGE_SIZE = 50


def attachment_get(*, pk):
    """The attachment with its room, or None (its message deleted: gone with it)."""
    return (
        Attachment.objects.select_related("room", "message")
        .filter(pk=pk, message__deleted_at__isnull=True)
        .first()
    )


def attachment_list_for_room(*, room, before_id=None, limit=FILES_PAGE_SIZE):
    """A room's files, newest first, a page at a time (the files panel); with one more
    row read to tell whether there are older ones."""
    files = Attachment.objects.filter(room=room, message__deleted_at__isnull=True).select_related("uploader")
    if before_id is not None:
        files = files.filter(id__lt=before_id)
    page = list(files.order_by("-id")[: limit + 1])
    return page[:limit], len(page) > limit


def attachments_export(message):
    """A message's files in a room export (messages_app/export.py), from the rows
    prefetched with its page: what they are and where members download them."""
    return [
        {
            "id": file.pk,
            "name": file.name,
            "size": file.size,
            "content_type": file.content_type,
            "url": file.get_absolute_url(),
        }
        for file in message.attachments.all()
    ]
