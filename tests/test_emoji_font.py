"""The vendored colour emoji font (issue 12, point 12): the stylesheet's @font-face names a
file that exists and is served, with its licence beside it, and the font heads the page's
font stack for emoji code points only, so text keeps the system's font."""

import re
from pathlib import Path

from django.test import Client

STATIC = Path(__file__).resolve().parent.parent / "static"
CSS = (STATIC / "css" / "chat.css").read_text()


def emoji_font_face():
    faces = [face for face in re.findall(r"@font-face\s*{([^}]*)}", CSS) if "Twemoji" in face]
    assert len(faces) == 1, "chat.css declares no Twemoji @font-face"
    return faces[0]


def test_the_font_face_names_a_vendored_versioned_file_with_its_licence():
    url = re.search(r'src:\s*url\("([^"]+)"\)\s*format\("woff2"\)', emoji_font_face()).group(1)
    font = (STATIC / "css" / url).resolve()
    assert font.parent == STATIC / "vendor" and re.fullmatch(r"twemoji-colr-\d+\.\d+\.\d+\.woff2", font.name)
    assert font.read_bytes()[:4] == b"wOF2"
    licence = (font.parent / f"{font.stem}.LICENSE.md").read_text()
    assert "SIL OPEN FONT LICENSE" in licence and "CC-BY-4.0" in licence


def test_the_font_is_served(db):
    response = Client().get("/static/vendor/twemoji-colr-15.0.3.woff2")
    assert response.status_code == 200 and response["Content-Type"] == "font/woff2"
    assert b"".join(response.streaming_content)[:4] == b"wOF2"


def parse_ranges(unicode_range):
    for part in unicode_range.replace("U+", "").split(","):
        first, _, last = part.strip().partition("-")
        yield int(first, 16), int(last or first, 16)


def test_it_covers_emoji_only_and_heads_the_font_stack():
    unicode_range = re.search(r"unicode-range:([^;]+);", emoji_font_face()).group(1)
    ranges = list(parse_ranges(unicode_range))
    covered = lambda char: any(first <= ord(char) <= last for first, last in ranges)  # noqa: E731
    assert all(covered(emoji) for emoji in "😀🎉👍❤☕⭐🚀✅🇫\u200d\ufe0f")
    # Text never downloads it: not ASCII (keycap digits, # and * included) nor Latin-1 letters.
    assert not any(covered(char) for char in map(chr, range(0x00, 0xA0)))
    # Nor what text uses in the Latin, punctuation, letterlike and arrow blocks: ©, ™, ↔, ‼.
    assert not any(covered(char) for char in "é€—“”…©®™↔‼⁉ℹ▪▶◻")
    root = re.search(r":root\s*{[^}]*?font-family:([^;]+);", CSS).group(1)
    stack = [name.strip().strip('"') for name in root.split(",")]
    # First: a system font holding monochrome smileys (DejaVu Sans) would win otherwise.
    assert stack[0] == "Twemoji" and "sans-serif" in stack and "Noto Color Emoji" in stack
