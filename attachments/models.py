"""Files shared in messages. The bytes live in Django's default storage (MEDIA_ROOT,
or an S3 bucket: settings.STORAGES); a row says what they are and where they belong."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone

from config.stored_files import INLINE_CONTENT_TYPES
from messages_app.models import Message
from rooms.models import Room


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    # The message's room, kept here for the room's files panel (newest first, indexed).
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="attachments")
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(max_length=300)  # its name in the storage
    name = models.CharField(max_length=255)  # as shown and downloaded, cleaned
    content_type = models.CharField(max_length=100)  # judged by the bytes
    size = models.PositiveBigIntegerField()
    # Images: the picture's size, and its thumbnail (a WebP, or the GIF itself when animated).
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    thumbnail = models.FileField(max_length=300, blank=True)
    thumbnail_width = models.PositiveIntegerField(null=True, blank=True)
    thumbnail_height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["room", "-id"], name="attachment_room_newest"),
            models.Index(fields=["uploader", "created_at"], name="attachment_uploader_time"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("attachment_download", args=[self.pk, self.name])

    @property
    def is_image(self):
        return self.content_type in INLINE_CONTENT_TYPES and bool(self.thumbnail)

    @property
    def kind(self):
        """For the type icon: the family of the content type."""
        family, _, subtype = self.content_type.partition("/")
        if subtype == "pdf":
            return "pdf"
        if subtype in {"zip", "gzip", "x-tar", "x-7z-compressed", "x-rar-compressed", "x-bzip2"}:
            return "archive"
        return family if family in {"image", "audio", "video", "text"} else "file"
