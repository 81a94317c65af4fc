"""Who calls the API: a personal access token (`Authorization: Bearer <token>`) or,
for the site's own pages (the docs' "Try it out"), the session with its CSRF token.

A request that carries an Authorization header is judged by it alone: a bad or revoked
token is 401 even beside a valid session cookie, so revoking a token always takes effect.
The scope is checked here, for every operation at once: a read token may only read."""

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError, AuthorizationError
from ninja.security import APIKeyCookie, HttpBearer

from api.services import token_authenticate

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class TokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest):
        header = request.headers.get("Authorization")
        if header is None:
            return None  # perhaps the session
        scheme, _, secret = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise AuthenticationError(message="Send Authorization: Bearer <token>.")
        return self.authenticate(request, secret.strip())

    def authenticate(self, request, token):
        found = token_authenticate(secret=token)
        if found is None:
            raise AuthenticationError(message="That token is unknown or revoked.")
        if request.method not in SAFE_METHODS and not found.can_write:
            raise AuthorizationError(message="This token's scope is read: it cannot write.")
        request.api_token = found
        return found.user


class SessionAuth(APIKeyCookie):
    """Django's session, CSRF-checked (ninja's django_auth, but a visitor without a
    session is 401, not a CSRF refusal)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest):
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)  # the CSRF check, then authenticate()

    def authenticate(self, request, key):
        request.api_token = None
        return request.user


api_auth = [TokenAuth(), SessionAuth(csrf=True)]
