"""What a reaction may be (one emoji), and how a message's reactions are shown: one
chip per emoji with its count and who reacted. Pure functions: the queries are in
selectors.py, the writes in services.py."""

import re
from dataclasses import dataclass

EMOJI_MAX_LENGTH = 32  # code points; Reaction.emoji is a varchar(32)
WHO_NAMES_SHOWN = 3  # "alice, bob, carol and 4 others"
# Offered first, one click away (the React menu and its page without JavaScript).
QUICK_REACTIONS = ("👍", "❤️", "😂", "🎉", "😮", "😢")

# Code points that are emoji by themselves (Unicode's Extended_Pictographic, roughly:
# Python's unicodedata has no emoji properties). Regional indicators and skin tones are
# left out: they only count inside a flag or after a base emoji.
_BASE = (
    "\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a\u231b\u2328\u23cf"
    "\u23e9-\u23f3\u23f8-\u23fa\u24c2\u25aa\u25ab\u25b6\u25c0\u25fb-\u25fe\u2600-\u27bf"
    "\u2934\u2935\u2b05-\u2b07\u2b1b\u2b1c\u2b50\u2b55\u3030\u303d\u3297\u3299"
    "\U0001f000-\U0001f1e5\U0001f200-\U0001f3fa\U0001f400-\U0001faff"
)
_ELEMENT = f"[{_BASE}](?:[\U0001f3fb-\U0001f3ff]|[\ufe0e\ufe0f])?"  # 👍🏽, ❤️
_EMOJI = re.compile(
    "(?:"
    f"{_ELEMENT}(?:\u200d{_ELEMENT})*"  # ZWJ sequences: 👩‍💻, 🏳️‍🌈
    "|[0-9#*]\ufe0f?\u20e3"  # keycaps: 1️⃣
    "|[\U0001f1e6-\U0001f1ff]{2}"  # flags: 🇫🇷
    "|\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f"  # subdivision flags: 🏴󠁧󠁢󠁳󠁣󠁴󠁿
    ")"
)


class EmojiRefused(ValueError):
    """Not one emoji; the text says why."""


def emoji_clean(value):
    """`value` if it is exactly one emoji, else EmojiRefused (a MessageRejected to callers)."""
    if not isinstance(value, str) or not value:
        raise EmojiRefused("Choose an emoji to react with.")
    if len(value) > EMOJI_MAX_LENGTH:
        raise EmojiRefused("That is too long to be one emoji.")
    if not _EMOJI.fullmatch(value):
        raise EmojiRefused("A reaction is one emoji (not text, spaces or several emoji).")
    return value


@dataclass(frozen=True, slots=True)
class ReactionGroup:
    """One chip of a message's reactions bar."""

    emoji: str
    user_ids: tuple  # in the order they reacted: `data-users`, which viewer.css marks as mine
    names: tuple

    @property
    def count(self):
        return len(self.user_ids)

    @property
    def users_attr(self):
        return " ".join(str(user_id) for user_id in self.user_ids)

    @property
    def who(self):
        return who_reacted(self.names)


def who_reacted(names):
    """ "alice", "alice and bob", "alice, bob and carol", "alice, bob, carol and 2 others"."""
    names = list(names)
    if len(names) > WHO_NAMES_SHOWN + 1:
        others = len(names) - WHO_NAMES_SHOWN
        names = [*names[:WHO_NAMES_SHOWN], f"{others} others"]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def reaction_groups(rows):
    """{message id: [ReactionGroup]} from (message id, emoji, user id, name) rows in the
    order the reactions were made: chips in the order their emoji first came."""
    grouped = {}
    for message_id, emoji, user_id, name in rows:
        users = grouped.setdefault(message_id, {}).setdefault(emoji, [])
        users.append((user_id, name))
    return {
        message_id: [
            ReactionGroup(emoji, tuple(u for u, _ in users), tuple(n for _, n in users))
            for emoji, users in emojis.items()
        ]
        for message_id, emojis in grouped.items()
    }
