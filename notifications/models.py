"""Who wants to hear of what, and what they were told.

A room's level is the member's choice for that room (RoomLevel), else their default
for its kind (Preferences), else the product's default: mentions only for rooms,
everything for direct conversations.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from messages_app.models import Message
from rooms.models import Room


class Level(models.TextChoices):
    ALL = "all", "All messages"
    MENTIONS = "mentions", "Mentions only"
    NOTHING = "nothing", "Nothing (muted)"


class RoomLevel(models.Model):
    """One member's level for one room (or direct conversation)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_levels")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="notification_levels")
    level = models.CharField(max_length=16, choices=Level.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="room_level_unique")]

    def __str__(self):
        return f"{self.user} in {self.room}: {self.level}"


class Preferences(models.Model):
    """A person's notification defaults; a row only once they change one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    room_level = models.CharField(max_length=16, choices=Level.choices, default=Level.MENTIONS)
    direct_level = models.CharField(max_length=16, choices=Level.choices, default=Level.ALL)
    email_enabled = models.BooleanField(default=True)
    # Until then, nothing is pushed or emailed (the page still shows badges).
    do_not_disturb_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "preferences"

    def __str__(self):
        return f"notification preferences of {self.user}"

    def is_quiet(self, now=None):
        return self.do_not_disturb_until is not None and self.do_not_disturb_until > (now or timezone.now())


class Notification(models.Model):
    """A message someone should hear of: a mention, a direct message, or any message
    of a room they follow at level "all". Pushed once; a mention or direct message
    still unread after NOTIFY_EMAIL_AFTER goes into their email digest."""

    class Reason(models.TextChoices):
        MENTION = "mention", "Mention"
        DIRECT = "direct", "Direct message"
        MESSAGE = "message", "Message"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)
    pushed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="notification_unique")]
        indexes = [
            # The digest pass reads the mentions and direct messages not emailed yet.
            models.Index(
                fields=["created_at"],
                name="notification_email_due",
                condition=models.Q(emailed_at__isnull=True) & ~models.Q(reason="message"),
            ),
        ]

    def __str__(self):
        return f"{self.reason} for {self.user}: message {self.message_id}"


class PushSubscription(models.Model):
    """One browser's Web Push subscription (one per device), as the browser gave it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.CharField(max_length=2000, unique=True)  # checked by notifications.push
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    # The browser and system it was made on, for the settings page ("Firefox on Linux").
    device = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"push subscription of {self.user} ({self.device or 'a browser'})"
