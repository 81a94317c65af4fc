from django.conf import settings
from django.db import models
from django.utils import timezone

from rooms.models import Room


class IncomingWebhook(models.Model):
    """A secret URL (`/hooks/<token>/`) through which another tool posts into one room,
    as this hook's own bot user (a dedicated User, is_bot, with an unusable password).

    Only the token's sha256 is stored: the owner sees the token once, when the hook is
    made, and a leak of this table gives nobody a working URL. Revoked hooks stay as the
    record of who made them and when; their URLs answer 404."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="incoming_webhooks")
    name = models.CharField(max_length=50)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    bot = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="webhook")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["room", "created"], name="webhook_room_created")]

    def __str__(self):
        return f"{self.name} ({self.room})"

    @property
    def is_revoked(self):
        return self.revoked_at is not None
