"""ASGI entry point: Django for HTTP, the room consumer for WebSockets (browsers and bots)."""

import gc
import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Set up Django before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from api.socket_auth import TokenOrBrowserAuth  # noqa: E402
from config.backends import backend_summary  # noqa: E402
from config.body_limit import BodySizeLimit  # noqa: E402
from messages_app.routing import websocket_urlpatterns  # noqa: E402

# Python's cycle collector, at its default thresholds (700, 10, 10), ran a full
# collection every few seconds in a server holding 1,000 sockets, each pausing the event
# loop for 100-330 ms: every frame of the process waited (rooms bench: p99 60-600 ms).
# Rarer young collections let short-lived objects die by reference count instead of
# being promoted, so full collections almost never run (p99 15-21 ms; docs/performance.md).
GC_THRESHOLDS = (50_000, 50, 100)
gc.set_threshold(*GC_THRESHOLDS)

for line in backend_summary():
    logging.getLogger("config").info(line)

application = ProtocolTypeRouter(
    {
        "http": BodySizeLimit(django_asgi_app),
        # Browsers: an allowed Origin, then the session; bots: a token (api/socket_auth.py).
        "websocket": TokenOrBrowserAuth(URLRouter(websocket_urlpatterns)),
    }
)
