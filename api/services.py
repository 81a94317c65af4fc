"""Personal access tokens: made (the secret shown once), revoked, and checked on
every API request. The secret never reaches the database: only its SHA-256."""

import hashlib
import secrets
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from api.models import ApiToken

# "chat_" tells a reader (and secret scanners) what the string is; 256 random bits after it.
SECRET_PREFIX = "chat_"
PREFIX_SHOWN = 12
# last_used_at is written at most this often per token.
LAST_USED_EVERY = timedelta(minutes=1)
# Live tokens one user may hold: a script gone wrong cannot fill the table.
TOKENS_PER_USER = 50


class TokenRefused(Exception):
    """A token could not be made; the text says why."""


def secret_hash(secret):
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def token_create(*, user, name, scope):
    """Make a token for `user`. Returns (token, secret): the secret is in no row, so
    this is the only time anyone sees it."""
    name = name.strip()
    if not name:
        raise TokenRefused("Give the token a name.")
    if scope not in ApiToken.Scope.values:
        raise TokenRefused("Choose the scope read or write.")
    if ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() >= TOKENS_PER_USER:
        raise TokenRefused(f"You have {TOKENS_PER_USER} tokens: revoke one first.")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100], scope=scope, token_hash=secret_hash(secret), prefix=secret[:PREFIX_SHOWN]
    )
    return token, secret


def token_revoke(*, user, token_id):
    """Revoke one of the user's live tokens; requests with it get 401 from now on.
    False when the user has no such live token."""
    live = ApiToken.objects.filter(user=user, pk=token_id, revoked_at__isnull=True)
    return live.update(revoked_at=timezone.now()) == 1


def token_authenticate(*, secret):
    """The live token (with its active user) whose secret this is, or None."""
    if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=secret_hash(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is not None:
        _touch(token)
    return token


def _touch(token):
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_EVERY:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_EVERY)
    ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
