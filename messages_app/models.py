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
    # A reply quotes the message it answers (same room: services check it). Counted on
    # the original so that a history page shows "N replies" without a query per message.
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies", db_index=False
    )
    reply_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    # A bot's overrides for this one message (an incoming webhook's `username` and
    # `icon_url`): shown in place of its author's name. The icon is kept as sent, never
    # rendered: a page must not load a picture from an address a webhook caller chose.
    bot_name = models.CharField(max_length=80, default="", db_default="", blank=True, editable=False)
    bot_icon_url = models.URLField(max_length=500, default="", db_default="", blank=True, editable=False)
    # Pinned by an owner or moderator: the room's pins panel lists these.
    pinned_at = models.DateTimeField(null=True, blank=True)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
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
            # A thread reads the replies of one message; most messages answer none.
            models.Index(
                fields=["reply_to", "id"], name="message_replies", condition=models.Q(reply_to__isnull=False)
            ),
            # The pins panel: the few pinned messages of a room.
            models.Index(
                fields=["room", "pinned_at"],
                name="message_room_pins",
                condition=models.Q(pinned_at__isnull=False),
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["client_id"], name="message_client_id_unique")]

    def __str__(self):
        return f"#{self.pk} in {self.room_id} by {self.author_id}"

    @property
    def is_deleted(self):
        return self.deleted_at is not None


class Reaction(models.Model):
    """One person's emoji on a message; toggled, so at most one of each per person."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions")
    emoji = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["message", "user", "emoji"], name="reaction_unique")]

    def __str__(self):
        return f"{self.emoji} by {self.user_id} on {self.message_id}"


class LinkPreview(models.Model):
    """The card under a message for its first link, fetched by the worker (never in a
    request). Its image is stored here, never hot-linked from the site."""

    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, primary_key=True, related_name="link_preview"
    )
    url = models.URLField(max_length=2048)
    title = models.CharField(max_length=300, blank=True)
    description = models.CharField(max_length=1000, blank=True)
    site_name = models.CharField(max_length=200, blank=True)
    image = models.ImageField(
        upload_to="previews/%Y/%m/", blank=True, width_field="image_width", height_field="image_height"
    )
    image_width = models.PositiveIntegerField(null=True, blank=True)
    image_height = models.PositiveIntegerField(null=True, blank=True)
    fetched_at = models.DateTimeField(default=timezone.now)
    # The author took the card away: it stays away, even if the message is edited.
    removed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Preview of {self.url} on {self.message_id}"


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
