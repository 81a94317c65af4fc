"""Production settings plus the benchmark's switches, for the bench's server processes.

Everything comes from config.settings (DEBUG=0, Postgres, Redis, the same pool
and layer capacity); this module only adds what a benchmark run asks for:

    BENCH_BASELINE = True     serve the tutorial-style peer at /ws/bench-baseline/<room>/
                              (messages_app/routing.py adds that route only when this is set)
    --variant no-pool         Django's psycopg pool off, to measure what it saves

The layer (`--layer pubsub`) is the app's own switch, CHANNEL_LAYER_BACKEND (config/settings.py).
"""

import os

from config.settings import *  # noqa: F403

BENCH_BASELINE = True

if "no-pool" in os.environ.get("BENCH_VARIANTS", "").split(","):
    # Undoes a change (--variant no-pool): no connection pool, so with CONN_MAX_AGE = 0 every
    # database_sync_to_async call opens and closes its own connection. Same threads as with it.
    DATABASES["default"]["OPTIONS"].pop("pool", None)  # noqa: F405
