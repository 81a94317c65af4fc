"""Account changes: the profile and its rules (display name, status, time zone, avatar),
and the changes that reach the user's open pages (a socket must not outlive the login
it was opened with; the consumer closes it with 4401, see RoomConsumer)."""

import functools
import hashlib
import re
import secrets
import unicodedata
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from accounts.images import ImageRefused, avatar_renditions
from accounts.models import AVATAR_SIZES, Block, User, avatar_file_name
from config.realtime import user_send

AVATAR_DIRECTORY = "avatars"


def session_fingerprint(session_key):
    """A session key travels through Redis only as a hash of it."""
    return hashlib.sha256((session_key or "").encode()).hexdigest()


def user_session_end(*, user_id, session_key):
    """The user logged out of one session: that session's sockets close."""
    user_send(user_id, {"type": "session.ended", "session": session_fingerprint(session_key)})


def user_password_change(*, user_id):
    """The user's password changed (once that is committed): every socket whose session
    no longer logs in closes. The session that made the change stays logged in under a
    new key: its sockets reconnect, and their handshake reads the browser's new cookie."""
    transaction.on_commit(lambda: user_send(user_id, {"type": "password.changed"}))


# --- The profile ----------------------------------------------------------------


def profile_update(*, user, display_name, status_emoji, status_text, time_zone):
    """Change what others see of `user` (not the avatar: avatar_set, avatar_clear).
    Raises ValidationError naming the field at fault; nothing is saved then."""
    fields = {
        "display_name": clean_display_name(display_name),
        "status_emoji": clean_status_emoji(status_emoji),
        "status_text": clean_status_text(status_text),
        "time_zone": clean_time_zone(time_zone),
    }
    for name, value in fields.items():
        setattr(user, name, value)
    user.save(update_fields=list(fields))
    return user


def avatar_set(*, user, upload):
    """Make a new avatar from an uploaded picture. The picture is decoded and redrawn
    before anything changes: a refused one (ValidationError) leaves the old avatar.
    The files get generated names, so the uploader's file name never matters."""
    try:
        renditions = avatar_renditions(upload)
    except ImageRefused as refusal:
        raise ValidationError({"avatar": str(refusal)}) from refusal
    stem = f"{AVATAR_DIRECTORY}/{user.pk}-{secrets.token_hex(16)}"
    for side, data in renditions.items():
        default_storage.save(avatar_file_name(stem, side), ContentFile(data))
    _avatar_replace(user=user, stem=stem)
    return user


def avatar_clear(*, user):
    """Back to initials on a colour."""
    _avatar_replace(user=user, stem="")
    return user


def _avatar_replace(*, user, stem):
    old = user.avatar
    user.avatar = stem
    user.save(update_fields=["avatar"])
    if old:
        # Only once the new one is committed: a rollback still finds the old files.
        transaction.on_commit(lambda: _avatar_files_delete(old))


def _avatar_files_delete(stem):
    for side in AVATAR_SIZES:
        default_storage.delete(avatar_file_name(stem, side))


# Rules for each field, also used by the form (accounts/forms.py), so that a shell or
# another entry point obeys the same ones.

DISPLAY_NAME_MAX = User._meta.get_field("display_name").max_length
STATUS_TEXT_MAX = User._meta.get_field("status_text").max_length
SPACES = re.compile(r"\s+")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def _one_line(value):
    """Trimmed, one line, spaces collapsed, no control or direction-override characters."""
    return SPACES.sub(" ", CONTROL.sub("", value or "")).strip()


def clean_display_name(value):
    value = _one_line(value)
    if len(value) > DISPLAY_NAME_MAX:
        raise ValidationError({"display_name": f"At most {DISPLAY_NAME_MAX} characters."})
    return value


def clean_status_text(value):
    value = _one_line(value)
    if len(value) > STATUS_TEXT_MAX:
        raise ValidationError({"status": f"At most {STATUS_TEXT_MAX} characters."})
    return value


def clean_status_emoji(value):
    value = (value or "").strip()
    if value and not is_single_emoji(value):
        raise ValidationError({"status_emoji": "Choose one emoji (or none)."})
    return value


def clean_time_zone(value):
    value = (value or "").strip()
    if value and value not in time_zone_names():
        raise ValidationError({"time_zone": f"“{value[:64]}” is not a time zone we know."})
    return value


@functools.cache
def time_zone_names():
    """IANA names (Europe/Paris, UTC …), from the system's or the tzdata package's database."""
    return frozenset(zoneinfo.available_timezones())


# Code points that make up emoji sequences besides the pictographs themselves.
ZWJ, VARIATION_SELECTOR, KEYCAP = "\u200d", "\ufe0f", "\u20e3"
SKIN_TONES = range(0x1F3FB, 0x1F400)
REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
TAGS = range(0xE0020, 0xE0080)


def is_single_emoji(value):
    """One emoji, roughly one grapheme: a pictograph with its variation selector, skin
    tone and tags, pictographs joined by ZWJ (👩‍💻), a flag (two regional indicators) or
    a keycap (1️⃣). Not letters, not two emoji side by side. No grapheme library needed
    for a status line's one symbol."""
    if len(value) > 16:
        return False
    points = [ord(char) for char in value]
    if len(points) == 2 and all(point in REGIONAL_INDICATORS for point in points):
        return True
    if len(value) in (2, 3) and value[0] in "0123456789#*" and value[-1] == KEYCAP:
        return True
    expect_base = True
    for char in value:
        point = ord(char)
        if expect_base:
            if not _is_pictograph(char):
                return False
            expect_base = False
        elif char == ZWJ:
            expect_base = True
        elif char != VARIATION_SELECTOR and point not in SKIN_TONES and point not in TAGS:
            return False
    return not expect_base


def _is_pictograph(char):
    point = ord(char)
    return unicodedata.category(char) == "So" and (point >= 0x2000) and point not in REGIONAL_INDICATORS


# --- Blocking ---------------------------------------------------------------------


def user_block(*, blocker, blocked):
    """`blocker` blocks `blocked` (once; blocking twice changes nothing)."""
    if blocker.pk == blocked.pk:
        raise ValueError("Nobody can block themselves.")
    Block.objects.get_or_create(blocker=blocker, blocked=blocked)


def user_unblock(*, blocker, blocked):
    Block.objects.filter(blocker=blocker, blocked=blocked).delete()
