"""Refuse an HTTP request body larger than settings.REQUEST_MAX_BYTES before reading it.

Django's ASGI handler reads a whole body (to a temporary file) before any view runs,
so a view cannot refuse a 2 GB upload early: this wrapper does, from Content-Length,
with a 413 while the body is still unread. A body sent without a length (chunked) is
counted as it arrives and cut off, as a client disconnect, once it passes the limit.
"""

from django.conf import settings

TOO_LARGE = b"Request body too large: files can be at most %d MB each."


class BodySizeLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = settings.REQUEST_MAX_BYTES
        length = _content_length(scope)
        if length is not None and length > limit:
            return await _refuse(send)
        return await self.app(scope, _counting(receive, limit), send)


def _content_length(scope):
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _counting(receive, limit):
    seen = 0

    async def counted():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                return {"type": "http.disconnect"}
        return message

    return counted


async def _refuse(send):
    body = TOO_LARGE % (settings.ATTACHMENT_MAX_BYTES // (1024 * 1024))
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
