"""The app's ASGI application with the garbage collector's start-up objects frozen.

Used only by `python -m bench.fanout --gc-freeze` to measure a proposed change:
after Django, the templates and the app are imported, gc.freeze() moves every
object alive now into a permanent generation that the collector never scans
again, so its full collections (the p99 tail of a fan-out) get cheaper.
"""

import gc

from config.asgi import application  # noqa: F401

gc.collect()
gc.freeze()
