"""The app's ASGI application with proposed changes applied, to measure them
before anyone edits the app. Used only by `python -m bench.fanout --variant ...`.

BENCH_VARIANTS, comma separated:
    gc-freeze     after start-up, gc.freeze() moves every object alive (Django, the
                  templates, the app) into a generation the collector never scans
                  again, so its full collections (the p99 tail) get cheaper
    parallel-db   the room consumer's database calls run on a pool of threads
                  (thread_sensitive=False, one pooled connection each) instead of
                  the one thread that all sync code of a process shares
    post-in-task  the room consumer handles a frame from its browser in a task of
                  its own, so that while its message is being saved the socket
                  still receives the room's frames (a consumer handles one event
                  at a time: awaiting the post holds back every frame to the sender)
"""

import asyncio
import functools
import gc
import os

from channels.db import database_sync_to_async

from config.asgi import application  # noqa: F401  (the server imports it from here)
from messages_app import consumers

VARIANTS = {name for name in os.environ.get("BENCH_VARIANTS", "").split(",") if name}

if "parallel-db" in VARIANTS:
    consumers.database_sync_to_async = functools.partial(database_sync_to_async, thread_sensitive=False)

if "post-in-task" in VARIANTS:
    _receive = consumers.RoomConsumer.receive
    _running = set()

    async def receive_in_task(self, text_data=None, bytes_data=None):
        task = asyncio.create_task(_receive(self, text_data=text_data, bytes_data=bytes_data))
        _running.add(task)
        task.add_done_callback(_running.discard)

    consumers.RoomConsumer.receive = receive_in_task

if "gc-freeze" in VARIANTS:
    gc.collect()
    gc.freeze()
