"""Thumbnails of shared pictures, made once at upload with Pillow.

Only the formats that pages show inline are decoded, and only after the header's
pixel count is checked (a few KB of PNG can decode to gigabytes). The thumbnail is
drawn from the pixels alone, upright (EXIF orientation applied) and without any
metadata. An animated GIF keeps its animation: the page shows the GIF itself, at the
thumbnail's size.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from accounts.images import UNREADABLE  # what Pillow raises on a file it cannot read

THUMBNAIL_BOX = (720, 480)  # drawn at half that size: sharp on 2x screens
MAX_PIXELS = 50_000_000
WEBP_QUALITY = 80
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}


@dataclass(frozen=True)
class Thumbnail:
    width: int  # of the picture, upright
    height: int
    data: bytes | None  # WebP bytes; None: show the original (an animated GIF)
    shown_width: int  # as drawn in the page (CSS pixels)
    shown_height: int


def thumbnail_make(upload, content_type):
    """The Thumbnail of an uploaded picture, or None when it is no picture we show
    (it is then shared as a plain file)."""
    if content_type not in FORMATS:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return _thumbnail(upload, FORMATS[content_type])
    except UNREADABLE:
        return None
    finally:
        upload.seek(0)


def _thumbnail(upload, image_format):
    upload.seek(0)
    with Image.open(upload, formats=[image_format]) as image:
        if image.width * image.height > MAX_PIXELS:
            return None
        animated = getattr(image, "is_animated", False)
        width, height = _upright_size(image)
        image.draft("RGB", THUMBNAIL_BOX)  # JPEG decodes at a fraction of its size
        image.load()
        upright = ImageOps.exif_transpose(image)
        shown = _fit(width, height, (THUMBNAIL_BOX[0] // 2, THUMBNAIL_BOX[1] // 2))
        if animated and image_format == "GIF":
            return Thumbnail(width, height, None, *shown)
        alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
        pixels = upright.convert("RGBA" if alpha else "RGB")
        pixels.thumbnail(THUMBNAIL_BOX, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        pixels.save(out, "WEBP", quality=WEBP_QUALITY, method=4)  # no exif, no icc: not passed
        return Thumbnail(width, height, out.getvalue(), *shown)


def _upright_size(image):
    """The size once EXIF orientation is applied (5 to 8 turn the picture a quarter)."""
    orientation = image.getexif().get(0x0112, 1)
    return (image.height, image.width) if orientation in (5, 6, 7, 8) else (image.width, image.height)


def _fit(width, height, box):
    scale = min(1, box[0] / width, box[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))
