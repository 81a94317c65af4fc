from django.conf import settings
from django.db import models
from django.utils import timezone

from rooms.models import Room


class ApiToken(models.Model):
    """A personal access token: a user's key to the REST API, for scripts and tools.

    Only the SHA-256 of the secret is stored (a leaked table lets nobody in); the
    secret itself is shown once, when the token is made (api/services.py). `prefix`,
    the secret's first characters, lets its owner tell their tokens apart."""

    class Scope(models.TextChoices):
        READ = "read", "Read: GET only"
        WRITE = "write", "Write: read, post, edit and delete"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Written at most once a minute (token_authenticate): not one UPDATE per request.
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "api_token"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…, {self.user})"

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    @property
    def can_write(self):
        return self.scope == self.Scope.WRITE


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


class SlackImportRecord(models.Model):
    """What a Slack export's id became here (a user, a room, a message): a second run
    of the import finds it and creates nothing twice. The id of the object is kept
    without a foreign key, one table for the three kinds; a row whose object was
    deleted since is simply not imported again."""

    class Kind(models.TextChoices):
        USER = "user", "User"
        CHANNEL = "channel", "Channel"
        MESSAGE = "message", "Message"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Users and channels: Slack's id (U…, C…); messages: "<channel id>/<ts>".
    slack_id = models.CharField(max_length=100)
    object_id = models.BigIntegerField()
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "slack_id"], name="slack_import_once")]

    def __str__(self):
        return f"Slack {self.kind} {self.slack_id} -> {self.object_id}"
