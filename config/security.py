"""Content Security Policy: a page runs only the scripts and styles served by
this site, so markup that slipped past escaping still could not run anything.

No inline script, no inline style attribute, no eval: the templates keep their
JavaScript in static/js/, htmx is told not to inject its indicator
<style> nor to eval (the htmx-config meta tag of base.html), and Django's admin
uses only external scripts and JSON data blocks. `connect-src 'self'` covers the
page's WebSocket too: CSP Level 3 browsers match ws:/wss: of the page's own host
with 'self' (tests/browser/test_security_browser.py proves it in Chromium).
"""

import functools

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings

from config.stored_files import object_store_origin

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

HEADER = "Content-Security-Policy"


@functools.cache
def content_security_policy(file_origin=""):
    """The policy; with object storage, images and media may also come from the
    store's origin, where downloads redirect (config/stored_files.py)."""
    policy = {name: list(sources) for name, sources in POLICY.items()}
    if file_origin:
        policy["img-src"].append(file_origin)
        policy["media-src"] = ["'self'", file_origin]
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


CONTENT_SECURITY_POLICY = content_security_policy()  # with files under MEDIA_ROOT


def is_html(response):
    return response.get("Content-Type", "").startswith("text/html")


def is_debug_page(response):
    """With DEBUG on, Django answers 404 and 500 with its technical pages, whose
    inline style and script a developer needs; production (DEBUG off) never does."""
    return settings.DEBUG and response.status_code in {404, 500}


def with_policy(response):
    if is_html(response) and not is_debug_page(response):
        response.headers.setdefault(HEADER, content_security_policy(object_store_origin()))
    return response


class ContentSecurityPolicyMiddleware:
    """Set the policy on every HTML response. Sync and async (no thread hop under ASGI)."""

    sync_capable = async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        return with_policy(self.get_response(request))

    async def _acall(self, request):
        return with_policy(await self.get_response(request))
