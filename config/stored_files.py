"""Serving and deleting stored files (avatars, attachments), below all apps.

The caller's view decides who may have a file; this module only hands it over, the
same way for every storage (config/settings.py STORAGES["default"]):

- a local storage (MEDIA_ROOT, or Django's in-memory one) is streamed by the app;
- an object store (S3) is never read through the app: the answer is a 302 to a signed
  URL that expires after STORAGE_URL_EXPIRES seconds, asking the store to send the
  same Content-Type, Content-Disposition and Cache-Control headers we would.

Either way the browser is told not to guess the type (nosniff), and only a few image
types may be shown inline: anything else is a download, whatever the caller asked.
"""

import logging
import posixpath
import unicodedata
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.files.storage import FileSystemStorage, InMemoryStorage, default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect

logger = logging.getLogger(__name__)

# Types a browser shows without running anything (no SVG: it can hold scripts).
INLINE_CONTENT_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
DOWNLOAD_NAME_MAX = 150
FALLBACK_NAME = "download"


def stored_file_response(
    name,
    *,
    content_type,
    download_name=None,
    inline=True,
    max_age=0,
    public=False,
    immutable=False,
    storage=None,
):
    """The response that hands over the stored file `name`.

    content_type: sent as is (judge it from the content at upload, not from the name).
    download_name: the file name the browser offers (cleaned here); default: the
        stored name's last part.
    inline: show it in the browser, honoured for INLINE_CONTENT_TYPES only.
    max_age, public, immutable: how long browsers may keep it (0: ask every time).
        With object storage the redirect is kept at most half the signed URL's life,
        so a kept redirect still leads to a valid URL.
    storage: default_storage unless given.

    Raises Http404 when a local storage has no such file; an object store is not
    asked (that would cost a round trip): its signed URL answers 404 itself."""
    storage = storage or default_storage
    disposition = content_disposition(
        inline=inline and content_type in INLINE_CONTENT_TYPES,
        filename=download_name or posixpath.basename(name),
    )
    if is_local(storage):
        response = _streamed(storage, name, content_type)
        response["Content-Disposition"] = disposition
        response["Cache-Control"] = cache_control(max_age=max_age, public=public, immutable=immutable)
    else:
        response = _signed_redirect(storage, name, content_type, disposition, max_age)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def stored_file_delete(name, *, storage=None):
    """Delete a stored file; True if the storage said yes (or it was already gone).
    Meant for transaction.on_commit: a storage outage is logged, not raised, since the
    rows are gone already; what is left is an orphan for the clean-up command."""
    storage = storage or default_storage
    try:
        storage.delete(name)
    except Exception:  # OSError locally, botocore's errors from S3: same outcome.
        logger.warning("Could not delete stored file %s", name, exc_info=True)
        return False
    return True


def is_local(storage):
    """Whether the app streams this storage's files itself (else: signed redirects).
    isinstance sees through default_storage's lazy wrapper."""
    return isinstance(storage, FileSystemStorage | InMemoryStorage)


def object_store_origin(storage=None):
    """The origin ("https://host") that the storage's signed URLs point at, "" for a
    local storage: pages must allow it (config/security.py), or a browser refuses
    the image a redirect leads to. Read from a URL the storage signs (no request is
    made), so addressing style and custom domains are as boto3 makes them; kept on
    the storage object, which Django replaces when STORAGES changes."""
    storage = storage or default_storage
    if is_local(storage):
        return ""
    origin = getattr(storage, "_signed_url_origin", None)
    if origin is None:
        parts = urlsplit(storage.url("origin-probe"))
        origin = f"{parts.scheme}://{parts.netloc}"
        storage._signed_url_origin = origin
    return origin


def url_expires():
    return settings.STORAGE_URL_EXPIRES


def clean_download_name(name):
    """A file name safe to offer: its last path part, without control or format
    characters (newlines, bidi overrides), trimmed; FALLBACK_NAME if nothing is left."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if unicodedata.category(char)[0] in "CZ" and char != " " else char for char in name)
    name = " ".join(name.split()).strip(" .")
    return name[:DOWNLOAD_NAME_MAX].strip(" .") or FALLBACK_NAME


def content_disposition(*, inline, filename):
    """`inline` or `attachment` with the cleaned name: as a quoted ASCII string when it
    is plain ASCII, else an ASCII stand-in plus the exact name encoded (RFC 6266)."""
    kind = "inline" if inline else "attachment"
    filename = clean_download_name(filename)
    stand_in = _ascii_stand_in(filename)
    if stand_in == filename:
        return f'{kind}; filename="{filename}"'
    return f"{kind}; filename=\"{stand_in}\"; filename*=utf-8''{quote(filename, safe='')}"


def cache_control(*, max_age, public=False, immutable=False):
    if max_age <= 0:
        return "private, no-cache"
    value = f"{'public' if public else 'private'}, max-age={max_age}"
    return f"{value}, immutable" if immutable else value


def _ascii_stand_in(filename):
    """The name in printable ASCII without quotes or backslashes (accents dropped)."""
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    cleaned = "".join(char if char.isprintable() and char not in '"\\' else "_" for char in folded)
    return " ".join(cleaned.split()).strip(" .") or FALLBACK_NAME


def _streamed(storage, name, content_type):
    try:
        file = storage.open(name)
    except FileNotFoundError:
        raise Http404("No such file.") from None
    return FileResponse(file, content_type=content_type)


def _signed_redirect(storage, name, content_type, disposition, max_age):
    expires = url_expires()
    url = storage.url(
        name,
        parameters={
            "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition,
            "ResponseCacheControl": cache_control(max_age=min(max_age, expires)),
        },
        expire=expires,
    )
    response = HttpResponseRedirect(url)
    kept = min(max_age, expires // 2)
    response["Cache-Control"] = f"private, max-age={kept}" if kept > 0 else "private, no-store"
    return response
