"""Read-side questions about accounts."""

import zoneinfo
from importlib import import_module

from django.conf import settings
from django.contrib.auth import (
    BACKEND_SESSION_KEY,
    HASH_SESSION_KEY,
    SESSION_KEY,
    get_user_model,
    load_backend,
)
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, Lower, NullIf
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


def _by_shown_name(people):
    """Ordered as pages name people: the display name, else the username, case aside."""
    shown = Coalesce(NullIf("display_name", Value("")), "username")
    return people.order_by(Lower(shown), "username")


def people_search(*, query=""):
    """Everyone with an active account whose username, display name, first or last name
    contains `query` (any case), ordered by shown name: the people directory and the
    conversation picker (webhooks' bots are nobody to look for). Nothing about anyone's rooms."""
    people = get_user_model().objects.filter(is_active=True, is_bot=False)
    query = query.strip()
    if query:
        people = people.filter(
            Q(username__icontains=query)
            | Q(display_name__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
    return _by_shown_name(people)


def person_search(*, user, query="", exclude_ids=(), limit=50):
    """People `user` may start a conversation with (people_search without `user`, whom
    `user` blocked and `exclude_ids`); at most `limit` (ask for one more to know
    whether there are more)."""
    people = people_search(query=query).exclude(pk=user.pk)
    people = people.exclude(pk__in=list(exclude_ids)).exclude(blocked_by__blocker=user)
    return list(people[:limit])


def person_list_named(*, usernames, exclude=None):
    """The people of these usernames that exist (closed accounts included: the rules
    say why they cannot be messaged), `exclude` left out, ordered by shown name. One query."""
    people = get_user_model().objects.filter(username__in=list(usernames))
    if exclude is not None:
        people = people.exclude(pk=exclude.pk)
    return list(_by_shown_name(people))
