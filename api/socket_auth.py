"""Bots open the same WebSockets as browsers, with a personal access token.

A handshake that carries `Authorization: Bearer <token>` is judged by the token alone:
its user is the socket's user, and no Origin is required, because a token (unlike a
session cookie) is never sent by a browser on its own, so a hostile page cannot ride on
it. Every other handshake goes the browser's way: an allowed Origin, then the session.
A read token's socket receives the room's live frames but may not write (the consumer
refuses its frames: `scope["read_only"]`)."""

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser

from api.services import token_authenticate


def bearer_secret(headers):
    """The token of an `Authorization: Bearer <token>` header, "" for another scheme
    or an empty one (refused as signed out), None without the header (a browser)."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, secret = value.decode("latin-1").strip().partition(" ")
            return secret.strip() if scheme.lower() == "bearer" else ""
    return None


class TokenUser:
    """Inside the session middleware: replaces its user with the token's."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        secret = bearer_secret(scope["headers"])
        token = await database_sync_to_async(token_authenticate)(secret=secret) if secret else None
        user = token.user if token else AnonymousUser()  # refused by the consumer as signed out
        scope = dict(scope, user=user, api_token=token, read_only=not (token and token.can_write))
        return await self.inner(scope, receive, send)


def TokenOrBrowserAuth(inner):  # noqa: N802 (an ASGI middleware stack, named like one)
    by_token = AuthMiddlewareStack(TokenUser(inner))
    by_browser = AllowedHostsOriginValidator(AuthMiddlewareStack(inner))

    async def application(scope, receive, send):
        chosen = by_browser if bearer_secret(scope["headers"]) is None else by_token
        return await chosen(scope, receive, send)

    return application
