"""Avatars from uploaded pictures: checked by their content, never by their name or
the type the browser claims, then redrawn from the pixels alone.

Pillow reads only the formats listed here (not SVG, not the dozens of rare formats it
could parse), refuses anything over AVATAR_MAX_BYTES before decoding and anything
whose header promises more than AVATAR_MAX_PIXELS (a few KB of PNG can decode to
gigabytes), verifies the file, then decodes the first frame only (an animation's
other frames are never decoded). The result is re-encoded as small square WebP files
with no metadata: EXIF (camera, GPS position) is dropped, after its orientation has
been applied so that the picture still stands the right way up.
"""

import io
import struct
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import AVATAR_SIZES

AVATAR_MAX_BYTES = 5 * 1024 * 1024
AVATAR_MAX_PIXELS = 25_000_000  # 5000 × 5000: any camera's photo, not a bomb
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
WEBP_QUALITY = 82

# What Pillow raises on a file that is not, or not wholly, an image of these formats.
UNREADABLE = (
    UnidentifiedImageError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    struct.error,
)


class ImageRefused(Exception):
    """The upload is not an avatar we accept; the message says why, for the form."""


def avatar_renditions(upload):
    """{size: WebP bytes} for each of AVATAR_SIZES, from an uploaded file (any file
    object with `size`, or bytes). Raises ImageRefused."""
    data = upload if isinstance(upload, bytes) else None
    size = len(data) if data is not None else upload.size
    if size > AVATAR_MAX_BYTES:
        raise ImageRefused(f"The picture is larger than {AVATAR_MAX_BYTES // (1024 * 1024)} MB.")
    if data is None:
        upload.seek(0)
        data = upload.read()
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its own pixel limit: make that a refusal too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = _decode(data)
    except ImageRefused:
        raise
    except UNREADABLE as error:
        raise ImageRefused(
            "This file is not a picture we can read: upload a JPEG, PNG, WebP or GIF."
        ) from error
    return {side: _encode(picture, side) for side in AVATAR_SIZES}


def _decode(data):
    """The picture's pixels, upright, in RGB or RGBA, with nothing else kept."""
    with Image.open(io.BytesIO(data), formats=FORMATS) as probe:
        _refuse_too_many_pixels(probe)
        probe.verify()  # checksums and structure, without decoding the pixels
    with Image.open(io.BytesIO(data), formats=FORMATS) as image:
        _refuse_too_many_pixels(image)
        # JPEG can decode at 1/2 … 1/8 scale: a phone photo costs a fraction of its size.
        image.draft("RGB", (max(AVATAR_SIZES) * 2, max(AVATAR_SIZES) * 2))
        image.load()  # the first frame only
        upright = _upright(image)
        alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
        pixels = upright.convert("RGBA" if alpha else "RGB")
    pixels.info = {}  # no EXIF, ICC, XMP or comments travel on
    return pixels


def _upright(image):
    """Turned as its EXIF orientation says; as it is when that EXIF cannot be parsed
    (cameras write odd tags: the picture itself is fine, so it is not refused)."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - whatever the EXIF parser raises, the pixels are good
        return image


def _refuse_too_many_pixels(image):
    width, height = image.size
    if width * height > AVATAR_MAX_PIXELS:
        raise ImageRefused(
            f"The picture is too large ({width} × {height} pixels): at most 25 megapixels, please."
        )


def _encode(picture, side):
    square = ImageOps.fit(picture, (side, side), method=Image.Resampling.LANCZOS)
    output = io.BytesIO()
    square.save(output, "WEBP", quality=WEBP_QUALITY, method=6, exif=b"", xmp=b"")
    return output.getvalue()
