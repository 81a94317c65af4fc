"""Slack's message markup and emoji names, made into what this chat writes: plain
message text (messages_app.text renders and escapes it when it is saved) and
unicode emoji. Pure functions.

Slack escapes `&`, `<` and `>` in message text and writes its own tokens between
angle brackets: <@U123> a person, <#C123|name> a channel, <!here> the room,
<https://x|label> a link. Bold is *one star*, where our Markdown wants two.
"""

import functools
import json
import re

from django.contrib.staticfiles import finders

EMOJI_DATA = "vendor/emoji-picker-element-data-1.8.0/en/emojibase/data.json"
# Slack names the emoji picker's data spells otherwise.
EMOJI_ALIASES = {"simple_smile": "🙂", "face_palm": "🤦", "heavy_plus_sign": "➕", "thumbsup_all": "👍"}
TOKEN = re.compile(r"<([^<>\n]*)>")
BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
SKIN_TONE = re.compile(r"^(?P<name>.+?)::skin-tone-(?P<tone>[2-6])$")
ROOM_WORDS = {"here", "channel", "everyone"}


def slack_text(text, *, usernames, channel_names):
    """Our body text for a Slack message's `text`. `usernames` maps Slack user ids to
    usernames here, `channel_names` Slack channel ids to names."""

    def token(match):
        return _token_text(match[1], usernames=usernames, channel_names=channel_names)

    text = TOKEN.sub(token, str(text or ""))
    text = BOLD.sub(r"**\1**", text)
    # Unescaped once, last: "&amp;lt;" stays "&lt;", as its author typed it.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _token_text(inner, *, usernames, channel_names):
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        username = usernames.get(target[1:])
        return f"@{username}" if username else (label if label.startswith("@") else f"@{label or target[1:]}")
    if target.startswith("#"):
        return f"#{label or channel_names.get(target[1:], target[1:])}"
    if target.startswith("!"):
        word = target[1:].split("^")[0]
        return f"@{word}" if word in ROOM_WORDS else label
    if target.startswith("mailto:"):
        return target.removeprefix("mailto:")
    return target


@functools.cache
def _emoji_names():
    """{shortcode: emoji} of the emoji picker's vendored data (the skins under
    "name::tone" keys), read once."""
    path = finders.find(EMOJI_DATA)
    with open(path, encoding="utf-8") as data:
        entries = json.load(data)
    names = {}
    for entry in entries:
        for code in entry.get("shortcodes", []):
            names.setdefault(code, entry["emoji"])
            for skin in entry.get("skins", []):
                names.setdefault(f"{code}::{skin['tone']}", skin["emoji"])
    return names


def emoji_for(name):
    """The unicode emoji of a Slack reaction name ("+1", "tada", "wave::skin-tone-3"),
    or None for a name we do not know (a workspace's custom emoji)."""
    names = _emoji_names()
    name = str(name or "")
    tone = None
    if match := SKIN_TONE.match(name):
        # Slack's skin-tone-2 is the lightest, Unicode's (and the data's) tone 1.
        name, tone = match["name"], int(match["tone"]) - 1
    for candidate in (name, name.replace("-", "_")):
        toned = names.get(f"{candidate}::{tone}") if tone else None
        emoji = toned or names.get(candidate) or EMOJI_ALIASES.get(candidate)
        if emoji:
            return _without_presentation_selector(emoji)
    return None


def _without_presentation_selector(emoji):
    """ "👍️" (with U+FE0F) as "👍": a pictograph past U+1F000 is shown as an emoji
    anyway, and the quick reactions spell it without, so both land on one chip."""
    if len(emoji) == 2 and emoji[1] == "\ufe0f" and ord(emoji[0]) >= 0x1F000:
        return emoji[0]
    return emoji
