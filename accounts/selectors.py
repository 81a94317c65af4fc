"""Read-side questions about accounts."""

import zoneinfo
from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import Block

SESSION_CURRENT = "current"  # it still logs the user in
SESSION_ENDED = "ended"  # it is gone: logged out, expired, or replaced by a new key
SESSION_OUTDATED = "outdated"  # it exists, but signed before a password change (or the user is inactive)


def session_login_state(*, session_key, user_id):
    """Does this session still log the user in? Django's own test for every request
    (django.contrib.auth.get_user), read-only. A session that made a password change
    was given a new key (update_session_auth_hash): its old key has then ended."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    backend_path = session.get(BACKEND_SESSION_KEY)
    if session.get(SESSION_KEY) != str(user_id) or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return SESSION_ENDED
    user = load_backend(backend_path).get_user(user_id)
    if user is None:
        return SESSION_OUTDATED
    session_hash = session.get(HASH_SESSION_KEY) or ""
    # Hashes signed with a retired SECRET_KEY (SECRET_KEY_FALLBACKS) still log in, as in get_user.
    expected = [user.get_session_auth_hash()]
    expected += [user._get_session_auth_hash(secret=secret) for secret in settings.SECRET_KEY_FALLBACKS]
    if any(constant_time_compare(session_hash, value) for value in expected):
        return SESSION_CURRENT
    return SESSION_OUTDATED


def blocked_ids(*, user):
    """Ids of the people `user` blocked: their messages fold away on user's pages."""
    return list(
        Block.objects.filter(blocker=user).order_by("blocked_id").values_list("blocked_id", flat=True)
    )


def block_exists(*, blocker, blocked):
    """Has `blocker` blocked `blocked`? (The profile page offers Block or Unblock.)"""
    return Block.objects.filter(blocker=blocker, blocked=blocked).exists()


def local_time(*, time_zone):
    """Now in a person's time zone (None when they have not set one)."""
    if not time_zone:
        return None
    return timezone.localtime(timezone=zoneinfo.ZoneInfo(time_zone))
