"""GET /healthz: is this process able to reach its database and channel layer? Staff
also see the background worker's queue: how many tasks are due and not yet run, how
long the oldest has waited, and how many failed in the last day."""

import asyncio
import logging
from datetime import timedelta

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.db.models import Case, Min, When
from django.db.models.functions import Greatest
from django.http import JsonResponse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

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


def _worker_report():
    now = timezone.now()
    due = DBTaskResult.objects.ready()
    # A deferred task waits from its run_after, any other from when it was enqueued
    # (the backend stores "no run_after" as the largest date).
    since = Case(When(run_after__lte=now, then="run_after"), default="enqueued_at")
    oldest = due.aggregate(oldest=Min(Greatest("enqueued_at", since)))["oldest"]
    failed = DBTaskResult.objects.filter(
        status=TaskResultStatus.FAILED, finished_at__gte=now - timedelta(days=1)
    )
    return {
        "queued": due.count(),
        "oldest_waiting_seconds": round((now - oldest).total_seconds()) if oldest else 0,
        "failed_last_day": failed.count(),
    }


async def healthz(request):
    database_ok, channel_layer_ok = await asyncio.gather(_database_ok(), _channel_layer_ok())
    report = {
        "database": "ok" if database_ok else "unavailable",
        "channel_layer": "ok" if channel_layer_ok else "unavailable",
    }
    status = 200 if database_ok and channel_layer_ok else 503
    if database_ok and (await request.auser()).is_staff:
        report["worker"] = await database_sync_to_async(_worker_report)()
    return JsonResponse(report, status=status)
