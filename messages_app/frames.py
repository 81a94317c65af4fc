"""Reading what a browser sends over the room socket.

The htmx ws extension sends the composer form as a JSON object: its fields at
the top level plus a HEADERS object. Only `body` matters; other keys are ignored.
"""

import json

MAX_FRAME_BYTES = 64 * 1024


class FrameError(Exception):
    """A frame we cannot use; its text is shown to the sender."""


def parse_message_frame(text):
    """Return the message body of a frame, or raise FrameError saying what is wrong."""
    try:
        data = json.loads(text)
    except ValueError:
        raise FrameError(
            "That message could not be read (not JSON). Reload the page and try again."
        ) from None
    if not isinstance(data, dict):
        raise FrameError("That message could not be read (not a JSON object).")
    body = data.get("body")
    if not isinstance(body, str):
        raise FrameError("That message has no text to send.")
    return body


def frame_too_large(text):
    return len(text.encode("utf-8", errors="surrogatepass")) > MAX_FRAME_BYTES
