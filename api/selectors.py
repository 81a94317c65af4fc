"""Read-side queries of the api app."""

from api.models import ApiToken


def token_list(*, user):
    """The user's tokens, live ones first, newest first: one query."""
    return list(ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at", "-id"))
