from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    """The chat's user. A custom model from the first migration, so that fields
    (avatars, display names) can be added later without swapping models."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class Block(models.Model):
    """`blocker` wants nothing from `blocked`: no direct messages either way, and the
    blocked person's messages in shared rooms folded away on the blocker's pages."""

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks_made"
    )
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocked_by")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="unique_block"),
            models.CheckConstraint(name="block_not_self", condition=~models.Q(blocker=models.F("blocked"))),
        ]

    def __str__(self):
        return f"{self.blocker} blocks {self.blocked}"
