"""Test settings: always the real Postgres and Redis, never the fallbacks."""

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("DEBUG", "1")
if not os.environ.get("MEDIA_ROOT"):
    # Uploads of this run in a directory of their own, shared with the browser tests'
    # server (it inherits the environment) and removed by the process that made it.
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="chat-test-media-")
    atexit.register(shutil.rmtree, os.environ["MEDIA_ROOT"], True)
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/chat")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("CHANNEL_LAYER_PREFIX", "chat-test")
# Never the developer's key file: tests that push set their own keys.
os.environ.setdefault("VAPID_KEYS_FILE", "/nonexistent/vapid.json")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True  # serve from the finders; no collectstatic in tests
# Rate limiting has its own tests; elsewhere it would only make tests flaky.
CHAT_RATE_LIMIT = os.environ.get("CHAT_RATE_LIMIT", "0")
# The tests' push service listens on http://127.0.0.1 (tests/push_server.py). Not put in
# the environment: the subprocesses of tests that run production settings inherit it.
PUSH_ALLOW_INSECURE = env_bool("PUSH_ALLOW_INSECURE", default=True)  # noqa: F405
