"""GET /healthz: is this process able to reach its database and channel layer?"""

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2


def _database_ping():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def _database_ok():
    try:
        # database_sync_to_async returns the connection to the pool in the same thread.
        await asyncio.wait_for(database_sync_to_async(_database_ping)(), CHECK_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("health: database check failed")
        return False
    return True


async def _channel_layer_ok():
    """Send a message to a fresh channel and read it back: a real round trip."""
    layer = get_channel_layer()
    try:
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "health.ping"})
        message = await asyncio.wait_for(layer.receive(channel), CHECK_TIMEOUT_SECONDS)
    except Exception:
        logger.exception("health: channel layer check failed")
        return False
    return message.get("type") == "health.ping"


async def healthz(request):
    database_ok, channel_layer_ok = await asyncio.gather(_database_ok(), _channel_layer_ok())
    report = {
        "database": "ok" if database_ok else "unavailable",
        "channel_layer": "ok" if channel_layer_ok else "unavailable",
    }
    status = 200 if database_ok and channel_layer_ok else 503
    return JsonResponse(report, status=status)
