"""The threads that async code (room sockets, presence) runs its queries on.

Threads of their own, one pooled connection each, rather than the single thread that
all thread-sensitive sync code of a process shares: there every save waited for every
other (docs/performance.md, rooms). As many threads as the pool has connections, so a
thread never waits for one. Long-lived threads, too: a pooled connection left in a
thread that ends (asyncio's default executor) never goes back to the pool.
"""

import functools
from concurrent.futures import ThreadPoolExecutor

from channels.db import database_sync_to_async
from django.conf import settings

_db_threads = ThreadPoolExecutor(max_workers=settings.CHAT_DB_THREADS, thread_name_prefix="db")
in_db_thread = functools.partial(database_sync_to_async, thread_sensitive=False, executor=_db_threads)
