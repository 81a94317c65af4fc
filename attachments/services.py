"""Write-side rules for attachments: the files of a message are checked and stored
before it is saved (messages_app calls these through parts.py), and leave storage
when it is deleted, when staff remove them, or when an upload was abandoned."""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from attachments.files import content_type_sniff, file_name_clean
from attachments.images import thumbnail_make
from attachments.models import Attachment
from config.stored_files import stored_file_delete
from messages_app.services import MessageRejected, message_refresh

logger = logging.getLogger(__name__)

DIRECTORY = "attachments"


@dataclass
class StoredFile:
    """A checked upload, stored, waiting for its message."""

    name: str
    content_type: str
    size: int
    path: str
    thumbnail_path: str = ""
    width: int | None = None
    height: int | None = None
    thumbnail_width: int | None = None
    thumbnail_height: int | None = None


def attachments_prepare(files, *, room, author, imported=False):
    """Check and store the files of a message about to be posted: [StoredFile], or
    None when there are none. Refuses (MessageRejected, nothing stored) too many, too
    large, empty or too frequent files; `imported` history (message_import) is not
    counted against the upload rate, which is for live uploads."""
    files = [upload for upload in files if upload is not None]
    if not files:
        return None
    _check_count(files)
    for upload in files:
        _check_size(upload)
    if not imported:
        _check_rate(author=author, adding=len(files))
    stored = []
    try:
        for upload in files:
            stored.append(_store(upload, room=room))
    except Exception:
        attachments_discard(stored)
        raise
    return stored


def attachment_names(files):
    """The names search finds a message by (StoredFiles or Attachments)."""
    return [file.name for file in files]


def _check_count(files):
    limit = settings.ATTACHMENT_MAX_FILES
    if len(files) > limit:
        raise MessageRejected(f"A message can have at most {limit} files (this one has {len(files)}).")


def _check_size(upload):
    limit = settings.ATTACHMENT_MAX_BYTES
    name = file_name_clean(upload.name)
    if upload.size > limit:
        raise MessageRejected(f"{name} is larger than {size_text(limit)}: files can be at most that.")
    if upload.size == 0:
        raise MessageRejected(f"{name} is empty.")


def _check_rate(*, author, adding):
    """ATTACHMENT_RATE files per user per window, counted in Postgres (so across
    server processes)."""
    count, seconds = settings.ATTACHMENT_RATE
    since = timezone.now() - timedelta(seconds=seconds)
    recent = Attachment.objects.filter(uploader=author, created_at__gte=since).count()
    if recent + adding > count:
        raise MessageRejected(
            f"Slow down: at most {count} files every {seconds // 60} minutes. "
            "Your message is still here; try again in a few minutes."
        )


def _store(upload, *, room):
    """Stream an upload to storage under a random folder (the name alone is guessable)."""
    name = file_name_clean(upload.name)
    content_type = content_type_sniff(upload)
    folder = f"{DIRECTORY}/{room.pk}/{secrets.token_urlsafe(12)}"
    thumbnail = thumbnail_make(upload, content_type)
    path = default_storage.save(f"{folder}/{name}", upload)
    stored = StoredFile(name=name, content_type=content_type, size=upload.size, path=path)
    if thumbnail is not None:
        stored.width, stored.height = thumbnail.width, thumbnail.height
        stored.thumbnail_width, stored.thumbnail_height = thumbnail.shown_width, thumbnail.shown_height
        stored.thumbnail_path = (
            default_storage.save(f"{folder}/thumbnail.webp", ContentFile(thumbnail.data))
            if thumbnail.data is not None
            else path  # an animated GIF is its own thumbnail
        )
    return stored


def attachments_save(stored, *, message):
    """The rows of the stored files, in the message's transaction."""
    rows = Attachment.objects.bulk_create(
        Attachment(
            message=message,
            room_id=message.room_id,
            uploader_id=message.author_id,
            file=item.path,
            name=item.name,
            content_type=item.content_type,
            size=item.size,
            width=item.width,
            height=item.height,
            thumbnail=item.thumbnail_path,
            thumbnail_width=item.thumbnail_width,
            thumbnail_height=item.thumbnail_height,
            # The message's time: imported history does not count as recent uploads.
            created_at=message.created_at,
        )
        for item in stored
    )
    logger.info("attachments saved message=%s count=%d", message.pk, len(rows))


def attachments_discard(stored):
    """The message of these stored files was not saved: they leave storage."""
    _delete_files({path for item in stored for path in (item.path, item.thumbnail_path) if path})


def attachments_delete_for_message(message):
    """A deleted message's files leave storage once the deletion is committed."""
    attachments = list(Attachment.objects.filter(message=message))
    if attachments:
        _delete(attachments)


def attachment_remove(*, attachment, actor):
    """Staff remove one file (admin): its bytes leave storage, and its message's
    fragment changes on every page."""
    message = attachment.message
    _delete([attachment])
    message_refresh(message)
    logger.info("attachment removed id=%s by=%s", attachment.pk, actor.username)


def _delete_files(paths):
    for path in paths:  # a failure is logged; the orphan sweep retries
        stored_file_delete(path)


def _delete(attachments):
    paths = {path for a in attachments for path in (a.file.name, a.thumbnail.name) if path}
    Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()
    transaction.on_commit(lambda: _delete_files(paths))


def size_text(size):
    """1.2 MB, 340 KB, 12 bytes: as people read file sizes."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size} byte{'s' if size != 1 else ''}"


def orphans_remove(*, older_than):
    """Delete stored files under DIRECTORY that no Attachment names and that are older
    than `older_than`; returns their names. Walks the storage by folder (room, then
    upload), so it works the same on the disk and in a bucket."""
    cutoff = timezone.now() - older_than
    removed = []
    for folder in _upload_folders():
        _, names = default_storage.listdir(folder)
        paths = [f"{folder}/{name}" for name in names]
        known = set(Attachment.objects.filter(file__in=paths).values_list("file", flat=True))
        known |= set(Attachment.objects.filter(thumbnail__in=paths).values_list("thumbnail", flat=True))
        for path in paths:
            if path not in known and default_storage.get_modified_time(path) < cutoff:
                default_storage.delete(path)
                removed.append(path)
    if removed:
        logger.info("attachment orphans removed count=%d", len(removed))
    return removed


def _upload_folders():
    try:  # a bucket has no folders of its own: listing is the only way to ask
        rooms, _ = default_storage.listdir(DIRECTORY)
    except FileNotFoundError:  # a disk where nothing was uploaded yet
        return
    for room in rooms:
        uploads, _ = default_storage.listdir(f"{DIRECTORY}/{room}")
        for upload in uploads:
            yield f"{DIRECTORY}/{room}/{upload}"
