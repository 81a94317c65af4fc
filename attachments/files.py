"""What an uploaded file is and what to call it: judged by its bytes, never by its
name or the type the browser claims, and named so that no name can reach outside
its folder, hide characters or break a header."""

import os
import re
import unicodedata

import filetype

NAME_MAX_LENGTH = 120
SNIFF_BYTES = 8192  # filetype reads the first 261; text is judged on a little more
UNNAMED = "file"
# Control and format characters (bidi overrides), path separators and what Windows refuses.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')


def file_name_clean(name):
    """The last part of `name`, without control, bidi or path characters, at most
    NAME_MAX_LENGTH characters with its extension kept; never empty or dots only."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co"})
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        return UNNAMED
    stem, extension = os.path.splitext(name)
    if len(extension) > 16:
        stem, extension = name, ""
    return (stem[: NAME_MAX_LENGTH - len(extension)] or UNNAMED) + extension


def content_type_sniff(upload):
    """The MIME type of an uploaded file's bytes: a known signature, else text/plain
    for UTF-8 text, else application/octet-stream."""
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    return (
        "text/plain"
        if _looks_like_text(head, complete=upload.size <= SNIFF_BYTES)
        else "application/octet-stream"
    )


def _looks_like_text(head, *, complete):
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A character cut at the end of the sample is still text.
        return not complete and error.start >= len(head) - 3
    return True
