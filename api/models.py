from django.db import models


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
