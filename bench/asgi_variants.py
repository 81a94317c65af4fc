"""The app's ASGI application with a change applied or undone, to measure it against
the app as it is. Used only by `python -m bench.fanout --variant ...`.

BENCH_VARIANTS, comma separated:
    gc-freeze         after start-up, gc.freeze() moves every object alive (Django, the
                      templates, the app) into a generation the collector never scans
                      again, so its full collections (the p99 tail) get cheaper
    shared-db-thread  undoes a change: the room consumer's queries run on the one thread
                      that all thread-sensitive sync code of a process shares (as before
                      messages_app.consumers.in_db_thread), not on a pool of threads
    frames-inline     undoes a change: the room consumer handles a frame from its browser
                      before anything else (as before RoomConsumer.receive handed it to a
                      task), so while its message is saved no frame reaches that socket
    dispatch-hop      undoes a change: the room consumer dispatches through Channels'
                      AsyncConsumer.dispatch, which hops to the sync thread to close stale
                      database connections before every event (every relayed frame)
    gc-default        undoes a change: Python's default collector thresholds (700, 10, 10)
                      instead of config.asgi.GC_THRESHOLDS
    gc-log            prints every collection that took over 5 ms to the server's log
                      (how the full collections' pauses were found)
    notifications-off undoes a change: notifications does not hear of new messages (its
                      message_posted receiver disconnected), to measure what it adds to
                      the message path
    notify-everyone   every member follows every message of every room (level "all"):
                      each message queues its notifications task, the worst case
"""

import gc
import os
import sys
import time

from channels.consumer import AsyncConsumer
from channels.db import database_sync_to_async

from config.asgi import application  # noqa: F401  (the server imports it from here)
from messages_app import consumers

VARIANTS = {name for name in os.environ.get("BENCH_VARIANTS", "").split(",") if name}

if "shared-db-thread" in VARIANTS:
    consumers.in_db_thread = database_sync_to_async

if "frames-inline" in VARIANTS:

    async def receive_inline(self, text_data=None, bytes_data=None):
        await self.handle_frame(text_data, bytes_data)

    consumers.RoomConsumer.receive = receive_inline

if "dispatch-hop" in VARIANTS:
    consumers.RoomConsumer.dispatch = AsyncConsumer.dispatch

if "gc-freeze" in VARIANTS:
    gc.collect()
    gc.freeze()

if "gc-default" in VARIANTS:
    gc.set_threshold(700, 10, 10)

if "gc-log" in VARIANTS:
    _started = []

    def _log_slow_collection(phase, info):
        if phase == "start":
            _started[:] = [time.perf_counter()]
        elif _started and (took_ms := (time.perf_counter() - _started[0]) * 1000) > 5:
            print(f"GC gen{info['generation']} {took_ms:.1f} ms", file=sys.stderr, flush=True)

    gc.callbacks.append(_log_slow_collection)

if "notifications-off" in VARIANTS:
    from messages_app.signals import message_posted

    message_posted.disconnect(dispatch_uid="notifications.message_posted")

if "notify-everyone" in VARIANTS:
    from notifications import receivers

    receivers.message_may_notify = lambda **kwargs: True
