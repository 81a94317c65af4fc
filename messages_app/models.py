from django.conf import settings
from django.db import models
from django.utils import timezone

from rooms.models import Room


class Message(models.Model):
    """One message in a room. Its id is the room's sequence number: pages order
    by it, and a page that reconnects asks for what came after the last id it has."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="messages"
    )
    body = models.TextField()
    # Rendered and sanitised once when saved or edited (messages_app.text), never per view.
    body_html = models.TextField(default="", blank=True)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in")
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            # Every history page is a keyset scan on (room, id).
            models.Index(fields=["room", "id"], name="message_room_id"),
            # The rate limit counts one author's recent messages.
            models.Index(fields=["author", "created_at"], name="message_author_created"),
        ]

    def __str__(self):
        return f"#{self.pk} in {self.room_id} by {self.author_id}"

    @property
    def is_deleted(self):
        return self.deleted_at is not None
