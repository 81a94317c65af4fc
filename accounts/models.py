from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The chat's user. A custom model from the first migration, so that fields
    (avatars, display names) can be added later without swapping models."""

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
