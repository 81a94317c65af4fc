"""Message text to safe HTML, rendered once when a message is saved or edited.

A small Markdown subset (bold, italic, inline code, code blocks) through
markdown-it-py with raw HTML off, bare URLs made into links, line breaks kept,
`@username` of a member marked as a mention; then nh3 (a maintained sanitiser)
keeps only the tags and attributes this output may contain.
"""

import re

import nh3
from django.utils.html import escape
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

MENTION = re.compile(r"(?<![\w@])@([\w.@+-]*[\w+-])")
# @here, @channel, @everyone: the whole room, when an owner or moderator writes it
# (messages_app.services); nobody may take these as usernames (settings).
ROOM_MENTIONS = frozenset({"here", "channel", "everyone"})
# What `mentionable` maps a room mention to, in place of a user id.
ROOM_MENTION = "room"

ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "a", "span"}
ALLOWED_ATTRIBUTES = {"a": {"href"}, "span": {"class", "data-user"}, "code": {"class"}}
LINK_REL = "nofollow noopener noreferrer"

# C0 and C1 control characters but tab and newline, and lone surrogates: Postgres text
# cannot hold NUL at all, nor UTF-8 (and so Postgres) a surrogate, which JSON can spell;
# the others (escape sequences, bells) only garble a page.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def without_control_characters(text):
    """`text` with every line end made LF and control characters (NUL included) dropped:
    dropped rather than refused, as text pasted from terminals and documents often has some."""
    return CONTROL_CHARACTERS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def mention_candidates(body):
    """Usernames written as @username in a body (members or not)."""
    return set(MENTION.findall(body))


def _mention_tokens(text, mentionable):
    """Split a text token's content into text and mention tokens."""
    tokens, position = [], 0
    for match in MENTION.finditer(text):
        user_id = mentionable.get(match.group(1))
        if user_id is None:
            continue
        if match.start() > position:
            tokens.append(_text_token(text[position : match.start()]))
        if user_id == ROOM_MENTION:
            attrs = {"class": "mention mention-room"}
        else:
            attrs = {"class": "mention", "data-user": str(user_id)}
        opening = Token("mention_open", "span", 1, attrs=attrs)
        tokens += [opening, _text_token(match.group(0)), Token("mention_close", "span", -1)]
        position = match.end()
    if position < len(text):
        tokens.append(_text_token(text[position:]))
    return tokens


def _text_token(content):
    token = Token("text", "", 0)
    token.content = content
    return token


def _mark_mentions(state):
    mentionable = state.env.get("mentionable") or {}
    if not mentionable:
        return
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children, link_depth = [], 0
        for token in block.children:
            link_depth += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type == "text" and link_depth == 0 and "@" in token.content:
                children += _mention_tokens(token.content, mentionable)
            else:
                children.append(token)
        block.children = children


def _build_renderer():
    renderer = MarkdownIt("zero", {"linkify": True, "breaks": True, "html": False})
    renderer.enable(["emphasis", "backticks", "fence", "code", "linkify", "newline", "escape"])
    renderer.core.ruler.push("mentions", _mark_mentions)
    return renderer


_renderer = _build_renderer()


def render_message_html(body, *, mentionable=None):
    """Safe HTML for a message body. `mentionable` maps usernames to user ids (and
    room mentions to ROOM_MENTION)."""
    html = _renderer.render(body, {"mentionable": mentionable or {}})
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        link_rel=LINK_REL,
        url_schemes={"http", "https", "mailto"},
        set_tag_attribute_values={"a": {"target": "_blank"}},
    ).strip()


# A mention as render_message_html writes it (after nh3, so always in this form).
MENTION_SPAN = re.compile(r'(<span class="mention" data-user="(\d+)">)@[^<]*(</span>)')


def mention_names_applied(body_html, names):
    """The stored body with each mention's text made the person's name as it is now
    (`names`: {user id: display name or username}), where the stored HTML says
    @username. Only the escaped text between the mention's own tags changes."""
    if not names or 'class="mention"' not in body_html:
        return mark_safe(body_html)

    def named(match):
        name = names.get(int(match.group(2)))
        return match.group(0) if name is None else f"{match.group(1)}@{escape(name)}{match.group(3)}"

    return mark_safe(MENTION_SPAN.sub(named, body_html))
