"""Production settings plus the benchmark's switches, for the bench's server processes.

Everything comes from config.settings (DEBUG=0, Postgres, Redis, the same pool
and layer capacity); this module only adds what a benchmark run asks for:

    BENCH_BASELINE = True     serve the tutorial-style peer at /ws/bench-baseline/<room>/
                              (messages_app/routing.py adds that route only when this is set)

The layer (`--layer pubsub`) is the app's own switch, CHANNEL_LAYER_BACKEND (config/settings.py).
"""

from config.settings import *  # noqa: F403

BENCH_BASELINE = True
