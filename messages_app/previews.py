"""Link previews: the card under a message for its first link, fetched by the worker
(messages_app/tasks.py), never in a request or a consumer.

A link is anyone's input, so the fetch is fenced in: http and https only, no
credentials in the URL, hosts that resolve only to public addresses, the address
actually connected to checked again on every connection (config/outbound.py: DNS
rebinding), at most MAX_REDIRECTS redirects, each checked the same way, connect and
read timeouts plus a deadline for the whole exchange, and at most HTML_MAX_BYTES of
page and IMAGE_MAX_BYTES of picture read. Only text/html is parsed, with the
standard library's parser. The picture is never hot-linked: it is decoded (a few
formats only, pixel count capped), redrawn at most IMAGE_MAX_SIDE pixels wide and
high without metadata, and stored as WebP through Django's default storage.

LINK_PREVIEW_ALLOW_LOOPBACK (tests only) lets loopback addresses through too.
"""

import contextlib
import io
import logging
import re
import socket
import threading
import time
import warnings
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from PIL import Image, ImageOps

from accounts.images import FORMATS as IMAGE_FORMATS
from accounts.images import UNREADABLE
from config.outbound import AddressRefused, CheckedSession, public_address, resolve
from messages_app.text import without_control_characters

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_SECONDS = 3
READ_TIMEOUT_SECONDS = 5
# The whole fetch of a page or a picture, redirects included: past it, the sockets are shut.
DEADLINE_SECONDS = 10
MAX_REDIRECTS = 3
HTML_MAX_BYTES = 1024 * 1024
IMAGE_MAX_BYTES = 5 * 1024 * 1024
IMAGE_MAX_PIXELS = 25_000_000
IMAGE_MAX_SIDE = 600
WEBP_QUALITY = 80
URL_MAX_LENGTH = 2048  # LinkPreview.url
CHUNK_BYTES = 16 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "ChatLinkPreview/1.0 (+link previews of messages)"
# LinkPreview's field lengths.
TITLE_MAX, DESCRIPTION_MAX, SITE_NAME_MAX = 300, 1000, 200


class PreviewRefused(Exception):
    """This link gets no card (or no picture); the message says why, for the log."""


@dataclass(frozen=True)
class Card:
    url: str
    title: str
    description: str
    site_name: str
    image: bytes | None  # WebP bytes, ours
    image_width: int | None
    image_height: int | None


# --- Which link ----------------------------------------------------------------------------------


class _FirstLink(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.url = None

    def handle_starttag(self, tag, attrs):
        if tag == "a" and self.url is None:
            href = dict(attrs).get("href") or ""
            if urlsplit(href).scheme.lower() in ("http", "https"):
                self.url = href


def first_link(body_html):
    """The first http(s) link of a message as its rendered body links it (messages_app.text:
    bare URLs made links, none inside code), or None."""
    if "<a " not in body_html:
        return None
    parser = _FirstLink()
    parser.feed(body_html)
    parser.close()
    url = parser.url
    return url if url and len(url) <= URL_MAX_LENGTH else None


# --- Where we may connect ------------------------------------------------------------------------


def address_allowed(address):
    return public_address(address) or (settings.LINK_PREVIEW_ALLOW_LOOPBACK and address.is_loopback)


def url_check(url):
    """Refuse (PreviewRefused) a URL the worker must not fetch: not http(s), credentials,
    no host, or a host that resolves to any address that is not public."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise PreviewRefused("not a valid URL") from error
    if parts.scheme not in ("http", "https"):
        raise PreviewRefused("not an http(s) URL")
    if not parts.hostname or parts.username or parts.password:
        raise PreviewRefused("no host, or credentials in the URL")
    try:
        addresses = resolve(parts.hostname, port)
    except (OSError, UnicodeError, ValueError) as error:
        raise PreviewRefused("the host does not resolve") from error
    if not addresses or not all(address_allowed(address) for address in addresses):
        raise PreviewRefused("the host is not on the public internet")


class _Deadline:
    """Shuts every socket of one fetch once DEADLINE_SECONDS have passed, so that no
    server (a slow trickle of headers or body) holds the worker longer."""

    def __init__(self, seconds):
        self.ends = time.monotonic() + seconds
        self.sockets = []
        self.timer = threading.Timer(seconds, self._shut)
        self.timer.daemon = True

    def watch(self, sock):
        self.sockets.append(sock)
        if self.passed():  # connected after the timer went off (a redirect's new host)
            self._shut()

    def passed(self):
        return time.monotonic() >= self.ends

    def _shut(self):
        for sock in self.sockets:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.cancel()


def _peer_refused():
    return AddressRefused("connected to an address that is not public")


def _fetch(url, *, accept, max_bytes):
    """(final URL, content type, body bytes) of a GET of `url`, within every bound above;
    PreviewRefused otherwise."""
    with (
        _Deadline(DEADLINE_SECONDS) as deadline,
        CheckedSession(allowed=address_allowed, refusal=_peer_refused, connected=deadline.watch) as session,
    ):
        try:
            return _fetch_following(session, url, accept=accept, max_bytes=max_bytes, deadline=deadline)
        except AddressRefused as refusal:
            raise PreviewRefused(str(refusal)) from refusal
        except (requests.RequestException, OSError) as error:
            raise PreviewRefused(f"fetch failed: {type(error).__name__}") from error


def _fetch_following(session, url, *, accept, max_bytes, deadline):
    headers = {"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "identity"}
    for _ in range(MAX_REDIRECTS + 1):
        if deadline.passed():
            raise PreviewRefused("too slow")
        url_check(url)
        response = session.get(
            url,
            headers=headers,
            stream=True,
            allow_redirects=False,
            timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
        )
        with response:
            if response.status_code in REDIRECT_STATUSES and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                if len(url) > URL_MAX_LENGTH:
                    raise PreviewRefused("redirected to an overlong URL")
                continue
            if response.status_code != 200:
                raise PreviewRefused(f"answered {response.status_code}")
            content_type = response.headers.get("Content-Type", "")
            return url, content_type, _read_capped(response, max_bytes=max_bytes, deadline=deadline)
    raise PreviewRefused("too many redirects")


def _read_capped(response, *, max_bytes, deadline):
    """The body, or PreviewRefused once it passes `max_bytes` or the deadline passed
    (read1 returns what one read brings, so a trickle is seen)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PreviewRefused("too large")
    body = bytearray()
    while chunk := response.raw.read1(CHUNK_BYTES):
        body += chunk
        if len(body) > max_bytes:
            raise PreviewRefused("too large")
        if deadline.passed():
            raise PreviewRefused("too slow")
    if deadline.passed():  # the deadline shut the socket: what came is cut short
        raise PreviewRefused("too slow")
    return bytes(body)


# --- What the page says --------------------------------------------------------------------------


class _PageMeta(HTMLParser):
    """The page's <meta property|name=... content=...> (first of each) and <title>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.meta = {}
        self.title = None
        self._in_title = False
        self._title_text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta":
            key = (attrs.get("property") or attrs.get("name") or "").strip().lower()
            if key and attrs.get("content") is not None:
                self.meta.setdefault(key, attrs["content"])
        elif tag == "title" and self.title is None:
            self._in_title = True

    def handle_data(self, data):
        if self._in_title:
            self._title_text.append(data)

    def handle_endtag(self, tag):
        if tag == "title" and self._in_title:
            self._in_title = False
            self.title = "".join(self._title_text)


META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


def _decoded(body, content_type):
    charset = requests.utils.get_encoding_from_headers({"content-type": content_type})
    if charset == "ISO-8859-1" and "charset" not in content_type.lower():
        charset = None  # requests' default for text/*, not what the page said
    if charset is None:
        found = META_CHARSET.search(body[:2048])
        charset = found.group(1).decode() if found else "utf-8"
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _clean(text, limit):
    text = " ".join(without_control_characters(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _first(meta, *keys):
    return next((meta[key] for key in keys if meta.get(key, "").strip()), "")


def page_meta(html, *, url):
    """{title, description, site_name, image (absolute URL or "")} of a page."""
    parser = _PageMeta()
    parser.feed(html)
    parser.close()
    meta = parser.meta
    image = _first(
        meta, "og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"
    )
    return {
        "title": _clean(_first(meta, "og:title", "twitter:title") or parser.title or "", TITLE_MAX),
        "description": _clean(
            _first(meta, "og:description", "twitter:description", "description"), DESCRIPTION_MAX
        ),
        "site_name": _clean(_first(meta, "og:site_name", "application-name"), SITE_NAME_MAX),
        "image": urljoin(url, image.strip()) if image.strip() else "",
    }


# --- The picture ---------------------------------------------------------------------------------


def image_redraw(data):
    """(WebP bytes, width, height) of a picture: only the formats pages show, its pixel
    count checked before decoding, verified, upright, at most IMAGE_MAX_SIDE a side, no
    metadata. PreviewRefused when it is not such a picture, whatever it claimed to be."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as probe:
                _check_pixels(probe)
                probe.verify()
            with Image.open(io.BytesIO(data), formats=IMAGE_FORMATS) as image:
                _check_pixels(image)
                image.draft("RGB", (IMAGE_MAX_SIDE * 2, IMAGE_MAX_SIDE * 2))
                image.load()  # the first frame only
                upright = ImageOps.exif_transpose(image)
                alpha = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
                pixels = upright.convert("RGBA" if alpha else "RGB")
    except PreviewRefused:
        raise
    except UNREADABLE as error:
        raise PreviewRefused("not a picture we read") from error
    pixels.info = {}
    pixels.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    pixels.save(out, "WEBP", quality=WEBP_QUALITY, method=4, exif=b"", xmp=b"")
    return out.getvalue(), pixels.width, pixels.height


def _check_pixels(image):
    if image.width * image.height > IMAGE_MAX_PIXELS:
        raise PreviewRefused("too many pixels")


def _image_of(url):
    """(WebP bytes, width, height) of the page's picture, or (None, None, None): a card
    without a picture is still a card."""
    if not url:
        return None, None, None
    try:
        _, content_type, data = _fetch(url, accept="image/*", max_bytes=IMAGE_MAX_BYTES)
        if not content_type.lower().startswith("image/"):
            raise PreviewRefused(f"the picture is {content_type or 'untyped'}")
        return image_redraw(data)
    except PreviewRefused as refusal:
        logger.info("link preview image dropped: %s", refusal)
        return None, None, None


# --- The card --------------------------------------------------------------------------------------


def card_fetch(url):
    """The Card of a link (title, description, site name, our copy of its picture), or
    PreviewRefused: not fetchable, not HTML, or nothing worth showing."""
    final_url, content_type, body = _fetch(
        url, accept="text/html,application/xhtml+xml;q=0.9", max_bytes=HTML_MAX_BYTES
    )
    if content_type.split(";")[0].strip().lower() != "text/html":
        raise PreviewRefused(f"not HTML ({content_type or 'untyped'})")
    meta = page_meta(_decoded(body, content_type), url=final_url)
    if not (meta["title"] or meta["description"]):
        raise PreviewRefused("the page has no title or description")
    image, width, height = _image_of(meta["image"])
    return Card(
        url=url,
        title=meta["title"],
        description=meta["description"],
        site_name=meta["site_name"],
        image=image,
        image_width=width,
        image_height=height,
    )
