import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Room(models.Model):
    """A place to talk. Public rooms are readable by every signed-in user;
    private rooms exist only for their members. A direct conversation is a private
    room between 2 and 9 people: nobody joins or is invited, and `direct_key` (its
    people's sorted ids) makes one conversation per set of people, in the database."""

    class Kind(models.TextChoices):
        PUBLIC = "public", "Public room"
        PRIVATE = "private", "Private room"
        DIRECT = "direct", "Direct conversation"

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=100, unique=True)
    topic = models.CharField(max_length=200, blank=True)
    is_private = models.BooleanField(default=False)
    # Follows is_private for rooms (save() keeps them in step); a direct room is always private.
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PUBLIC)
    direct_key = models.CharField(max_length=200, unique=True, null=True, blank=True, editable=False)
    slow_mode_seconds = models.PositiveIntegerField(
        default=0, help_text="Slow mode: one message per this many seconds per member (0 = off)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="rooms_created"
    )
    created_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="Archived: read-only and out of the directory until restored."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                name="room_kind_matches_privacy",
                condition=models.Q(kind="public", is_private=False)
                | models.Q(kind__in=["private", "direct"], is_private=True),
            ),
            models.CheckConstraint(
                name="room_direct_key_iff_direct",
                condition=models.Q(kind="direct", direct_key__isnull=False)
                | (~models.Q(kind="direct") & models.Q(direct_key__isnull=True)),
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Rooms change privacy through is_private (forms, settings, admin): the kind follows.
        if self.kind != self.Kind.DIRECT:
            self.kind = self.Kind.PRIVATE if self.is_private else self.Kind.PUBLIC
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and "is_private" in update_fields:
                kwargs["update_fields"] = {*update_fields, "kind"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("room_detail", kwargs={"slug": self.slug})

    @property
    def is_direct(self):
        return self.kind == self.Kind.DIRECT

    @property
    def is_archived(self):
        return self.archived_at is not None


class Membership(models.Model):
    """A user's place in a room. A banned membership is kept as the record of the ban."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MODERATOR = "moderator", "Moderator"
        MEMBER = "member", "Member"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=timezone.now)
    last_read_message_id = models.BigIntegerField(null=True, blank=True)
    banned_at = models.DateTimeField(null=True, blank=True)
    muted_until = models.DateTimeField(null=True, blank=True)
    # Invited by username: a member at once (the room is in their sidebar), with a notice
    # until they accept (it goes away) or decline (they leave).
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    invitation_pending = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="unique_membership")]
        indexes = [models.Index(fields=["user", "room"], name="membership_user_room")]

    def __str__(self):
        return f"{self.user} in {self.room} ({self.role})"

    @property
    def is_banned(self):
        return self.banned_at is not None

    def is_muted(self, now=None):
        return self.muted_until is not None and self.muted_until > (now or timezone.now())

    @property
    def can_moderate(self):
        """Owners and moderators run the room (invitations included); a ban ends that."""
        return not self.is_banned and self.role in (self.Role.OWNER, self.Role.MODERATOR)


def new_invitation_token():
    """192 random bits, URL-safe: a link nobody can guess or enumerate."""
    return secrets.token_urlsafe(24)


class InvitationQuerySet(models.QuerySet):
    def active(self, now=None):
        """Links that still let people in: not revoked and not expired."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class Invitation(models.Model):
    """An invite link to a room: whoever holds the token (and is signed in) may
    join, until the link expires or an owner or moderator revokes it."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="invitations")
    token = models.CharField(max_length=64, unique=True, default=new_invitation_token, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="invitations_created"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the link never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    use_count = models.PositiveIntegerField(default=0, help_text="People who joined through this link.")

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Invitation to {self.room} ({self.token[:6]}…)"

    def get_absolute_url(self):
        return reverse("invitation_detail", kwargs={"token": self.token})

    def is_active(self, now=None):
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
