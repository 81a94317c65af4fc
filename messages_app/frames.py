"""Reading what a browser sends over the room socket.

The htmx ws extension sends the composer form as a JSON object: its fields at
the top level plus a HEADERS object. A frame with a `body` and no `action` is a
new message; other actions name themselves. Unknown keys are ignored.

    {"body": "hi", "client_id": "<uuid>"}              post (client_id optional: retries are safe)
    {"body": "yes", "reply_to": 7}                     post a reply to message 7
    {"action": "edit", "message_id": 7, "body": "hi"}  edit one's message
    {"action": "delete", "message_id": 7}              delete it
    {"action": "read", "message_id": 7}                read up to here
    {"action": "typing"}                               show "… is typing"
    {"react": 7, "emoji": "👍"}                         toggle my reaction (no "action" key)
"""

import json
import uuid
from dataclasses import dataclass

MAX_FRAME_BYTES = 64 * 1024
MAX_MESSAGE_ID = 2**63 - 1  # a Postgres bigint
ACTIONS = {"post", "edit", "delete", "read", "typing", "react"}
ACTIONS_WITH_BODY = {"post", "edit"}
ACTIONS_WITH_MESSAGE_ID = {"edit", "delete", "read"}


class FrameError(Exception):
    """A frame we cannot use; its text is shown to the sender."""


@dataclass(frozen=True)
class ClientFrame:
    action: str
    body: str | None = None
    message_id: int | None = None
    client_id: uuid.UUID | None = None
    reply_to: int | None = None
    emoji: str | None = None


def _message_id(data, key="message_id", *, error="That action needs a message id."):
    value = data.get(key)
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= MAX_MESSAGE_ID:
        raise FrameError(error)
    return value


def _reply_to(data):
    """The id a post answers, or None; the composer sends "" when it answers none."""
    if data.get("reply_to") in (None, ""):
        return None
    return _message_id(data, "reply_to", error="That reply names no message. Reload the page.")


def parse_client_id(value):
    """The UUID a page chose for one send, or None when it sent none."""
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise FrameError("That message could not be read (bad message id). Reload the page.") from None


def parse_frame(text):
    """Return the ClientFrame a text frame asks for, or raise FrameError saying what is wrong."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
        raise FrameError(
            "That message could not be read (not JSON). Reload the page and try again."
        ) from None
    if not isinstance(data, dict):
        raise FrameError("That message could not be read (not a JSON object).")
    action = data.get("action", "react" if "react" in data else "post")
    if not isinstance(action, str) or action not in ACTIONS:
        raise FrameError("Unknown action.")
    if action == "react":
        return parse_react(data)
    body = data.get("body")
    if action in ACTIONS_WITH_BODY and not isinstance(body, str):
        raise FrameError("That message has no text to send.")
    message_id = _message_id(data) if action in ACTIONS_WITH_MESSAGE_ID else None
    client_id = parse_client_id(data.get("client_id")) if action == "post" else None
    reply_to = _reply_to(data) if action == "post" else None
    body = body if action in ACTIONS_WITH_BODY else None
    return ClientFrame(
        action=action, body=body, message_id=message_id, client_id=client_id, reply_to=reply_to
    )


def parse_react(data):
    """`{"react": <message id>, "emoji": "..."}`: the emoji itself is checked by the service."""
    message_id = _message_id(data, "react")
    emoji = data.get("emoji")
    if not isinstance(emoji, str):
        raise FrameError("Choose an emoji to react with.")
    return ClientFrame(action="react", message_id=message_id, emoji=emoji)


def frame_too_large(text):
    return len(text.encode("utf-8", errors="surrogatepass")) > MAX_FRAME_BYTES
