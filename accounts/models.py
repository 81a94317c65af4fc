import posixpath

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.urls import reverse
from django.utils import timezone

# The sizes accounts/images.py makes of every avatar: 64 px for the 36 px circles of
# messages, lists and the user menu (sharp on 2x screens), 128 px for the profile.
AVATAR_SIZES = (64, 128)


class User(AbstractUser):
    """The chat's user. A custom model from the first migration, so that fields
    (avatars, display names) can be added later without swapping models.

    The profile (accounts/services.py changes it): a display name shown instead of
    the username, a status line, a time zone and an avatar. The avatar is the stem
    of its files in the default storage (`avatars/<id>-<random>`, one file per size),
    never a name that came from the uploader."""

    display_name = models.CharField(max_length=50, blank=True)
    status_emoji = models.CharField(max_length=32, blank=True)
    status_text = models.CharField(max_length=80, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    avatar = models.CharField(max_length=100, blank=True)
    # A bot (an incoming webhook's, api/webhooks.py): it posts, it never logs in (its
    # password is unusable); its messages carry a "bot" badge.
    is_bot = models.BooleanField(default=False, db_default=False, editable=False)

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def shown_name(self):
        """What pages call this person: the display name, else the username."""
        return self.display_name or self.username

    def avatar_url(self, size):
        """The URL of the avatar at one of AVATAR_SIZES ("" without an avatar): always
        the app's own (accounts.views.avatar_file), never the storage's, because pages
        and cached message fragments outlive an object store's signed URLs."""
        if not self.avatar:
            return ""
        return reverse("avatar_file", args=[posixpath.basename(avatar_file_name(self.avatar, size))])


def avatar_file_name(stem, size):
    return f"{stem}-{size}.webp"


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
