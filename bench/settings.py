"""Production settings plus the benchmark's switches, for the bench's server processes.

Everything comes from config.settings (DEBUG=0, Postgres, Redis, the same pool
and layer capacity); this module only adds what a benchmark run asks for:

    BENCH_BASELINE = True     serve the tutorial-style peer at /ws/bench-baseline/<room>/
                              (messages_app/routing.py adds that route only when this is set)
    BENCH_LAYER=pubsub        channels_redis.pubsub.RedisPubSubChannelLayer instead of the core
                              layer, to measure one against the other without editing settings
"""

import os

from config.settings import *  # noqa: F403

BENCH_BASELINE = True

if os.environ.get("BENCH_LAYER", "core") == "pubsub":
    _core = CHANNEL_LAYERS["default"]["CONFIG"]  # noqa: F405
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": _core["hosts"], "prefix": _core["prefix"]},
        }
    }
