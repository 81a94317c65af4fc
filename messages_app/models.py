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
    # Chosen by the sender's page for each send: a retried send finds its message
    # instead of creating a second one (the unique constraint is the guarantee).
    client_id = models.UUIDField(null=True, blank=True, editable=False)
    # Text of the parts that apps above add (parts.py: the names of its files), one
    # per line: search finds a message by it too (migration 0007).
    parts_text = models.TextField(default="", db_default="", blank=True, editable=False)
    # When the message was last edited, deleted or restored: a page that reconnects
    # asks for the changes it may have missed since then.
    changed_at = models.DateTimeField(null=True, blank=True, editable=False)
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
            # Catch-up reads a room's recent edits and deletions; most rows never change.
            models.Index(
                fields=["room", "changed_at"],
                name="message_room_changed",
                condition=models.Q(changed_at__isnull=False),
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["client_id"], name="message_client_id_unique")]

    def __str__(self):
        return f"#{self.pk} in {self.room_id} by {self.author_id}"

    @property
    def is_deleted(self):
        return self.deleted_at is not None


class Report(models.Model):
    """A member's report of a message, queued for staff until resolved."""

    class Resolution(models.TextChoices):
        DELETED = "deleted", "Message deleted"
        BANNED = "banned", "Author banned"
        DISMISSED = "dismissed", "Dismissed"

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_made"
    )
    reason = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One open report per member and message: reporting twice adds nothing.
            models.UniqueConstraint(
                fields=["message", "reporter"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_report_per_reporter",
            )
        ]
        indexes = [models.Index(fields=["resolved_at", "id"], name="report_queue")]

    def __str__(self):
        return f"Report #{self.pk} on message {self.message_id}"


class ModerationAction(models.Model):
    """The audit trail: every moderation action, who took it, on whom or what, and where."""

    class Action(models.TextChoices):
        DELETE = "delete", "Delete message"
        RESTORE = "restore", "Restore message"
        BAN = "ban", "Ban member"
        UNBAN = "unban", "Unban member"
        MUTE = "mute", "Mute member"
        UNMUTE = "unmute", "Unmute member"
        PROMOTE = "promote", "Promote to moderator"
        DEMOTE = "demote", "Demote to member"
        DISMISS_REPORT = "dismiss", "Dismiss report"
        SLOW_MODE = "slow_mode", "Set slow mode"

    class Source(models.TextChoices):
        ADMIN = "admin", "Admin"
        PAGE = "page", "Room page"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="moderation_actions")
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=8, choices=Source.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.get_action_display()} by {self.actor} in {self.room}"
