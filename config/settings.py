"""Settings read from the environment (twelve-factor style).

Development needs nothing set: an embedded SQLite file and the in-memory channel
layer (one process). Production sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS,
DATABASE_URL (Postgres) and REDIS_URL (channels-redis), and can then run many
server processes against the same Postgres and Redis.
"""

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.logfilters import SUSPICIOUS_LOGGERS

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for development).")
    SECRET_KEY = "django-insecure-development-only-key"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    # django-ninja: its Swagger UI template and static files (the API docs, /api/v1/docs).
    "ninja",
    "accounts",
    "rooms",
    "messages_app",
    "attachments",
    "notifications",
    "api",
    # The project's own commands (the worker) and shared modules; no models.
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "config.params.BadParameterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------
# Postgres when DATABASE_URL is set, through psycopg 3 and Django's connection
# pool: under ASGI every database_sync_to_async call would otherwise open a
# fresh connection. The pool requires CONN_MAX_AGE = 0.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    # Health checks make the pool test a connection before handing it out: one broken
    # while idle (Postgres restarted, network cut) is replaced, not used to fail a request.
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0, conn_health_checks=True)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            # Every room socket query takes one for a few round trips and a commit: rooms of
            # 10 at 100 messages/s kept 10 busy, and messages queued (docs/performance.md).
            "min_size": int(os.environ.get("DATABASE_POOL_MIN", "4")),
            "max_size": int(os.environ.get("DATABASE_POOL_MAX", "20")),
            # Postgres down: a send fails after this long with a visible error (draft kept).
            "timeout": int(os.environ.get("DATABASE_POOL_TIMEOUT", "5")),
            # Reconnection attempts back off exponentially (1, 2, 4, 8 s...): giving up after
            # this long lets the next request try at once, so sends work again within seconds
            # of Postgres returning, not up to half the outage's length later.
            "reconnect_timeout": int(os.environ.get("DATABASE_POOL_RECONNECT_TIMEOUT", "10")),
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        }
    }

# Threads the room sockets' queries run on (messages_app.consumers): one per pooled
# connection on Postgres; one on SQLite, which takes one writer at a time anyway.
_pool = DATABASES["default"].get("OPTIONS", {}).get("pool")
CHAT_DB_THREADS = _pool["max_size"] if _pool else 1

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer ---------------------------------------------------------
# Redis when REDIS_URL is set (required for more than one server process).
REDIS_URL = os.environ.get("REDIS_URL", "")
# Every Redis key of the app starts with this: the channel layer's, the cache's
# ("<prefix>:cache"), presence's and the rate limits'. Runs sharing a Redis differ here.
REDIS_KEY_PREFIX = os.environ.get("CHANNEL_LAYER_PREFIX", "chat")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "config.channel_layer.ResilientRedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": REDIS_KEY_PREFIX,
                # One Redis list per process carries every socket's frames;
                # the default of 100 silently drops frames under bursts.
                "capacity": 1500,
                "expiry": 60,
                "group_expiry": int(os.environ.get("CHANNEL_GROUP_EXPIRY", "86400")),
                "group_refresh_seconds": int(os.environ.get("CHANNEL_GROUP_REFRESH", "3600")),
            },
        }
    }
    if os.environ.get("CHANNEL_LAYER_BACKEND", "core") == "pubsub":
        # Redis pub/sub instead of lists: measured against the core layer in
        # docs/performance.md. No capacity, no group expiry, no outage recovery nudge.
        _layer = CHANNEL_LAYERS["default"]
        _layer["BACKEND"] = "channels_redis.pubsub.RedisPubSubChannelLayer"
        _layer["CONFIG"] = {key: _layer["CONFIG"][key] for key in ("hosts", "prefix")}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Cache -------------------------------------------------------------------
# allauth counts logins and sign-ups (ACCOUNT_RATE_LIMITS) in the cache, which every
# server process must share: Redis when REDIS_URL is set, under a key prefix of its own
# beside the channel layer's; this process's memory otherwise.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"{REDIS_KEY_PREFIX}:cache",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rendered message fragments (messages_app/fragments.py), in each process's memory:
# about 1 KB each, so at most ~10 MB a process.
CACHES["fragments"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "message-fragments",
    "TIMEOUT": 3600,
    "OPTIONS": {"MAX_ENTRIES": 10_000},
}

# --- Accounts (django-allauth) ---------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "none")
ACCOUNT_UNIQUE_EMAIL = True
# Room mentions (@here, messages_app.text.ROOM_MENTIONS) are nobody's username.
ACCOUNT_USERNAME_BLACKLIST = ["here", "channel", "everyone"]
ACCOUNT_SESSION_REMEMBER = True
# allauth's limits (its defaults, stated here so that they are seen), counted in CACHES:
# the login form 30 times a minute per IP; failed logins 10 a minute per IP and 5 per
# 5 minutes per account; sign-ups 20 a minute per IP. The admin logs in through allauth
# too (config/urls.py), so these cover every login form.
ACCOUNT_RATE_LIMITS = {"login": "30/m/ip", "login_failed": "10/m/ip,5/5m/key", "signup": "20/m/ip"}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Email (the digest of unread mentions, invitations: notifications/digest.py) ---
# EMAIL_HOST names the SMTP server; without it, development prints mails on the
# console (`make run`) and production sends to an SMTP server on localhost.
EMAIL_HOST = os.environ.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG and not os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "chat@localhost")
# A mention or direct message still unread this many seconds after it came is emailed.
NOTIFY_EMAIL_AFTER = int(os.environ.get("NOTIFY_EMAIL_AFTER", "900"))
# The site's address, for the absolute links of mails (no request to take it from):
# in production the first ALLOWED_HOSTS over https unless set.
_first_host = next((host.lstrip(".") for host in ALLOWED_HOSTS if host != "*"), "localhost")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000" if DEBUG else f"https://{_first_host}").rstrip(
    "/"
)

# --- Internationalisation ---------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise) ----------------------------------------------
STATIC_URL = "static/"
# collectstatic's output; whitenoise serves it ahead of the finders, so tests keep theirs apart.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Uploaded files (avatars, attachments) -------------------------------------
# Stored through Django's storage API (STORAGES["default"]) and served through
# config/stored_files.py, which checks nothing itself: the app's view checks access
# first. Without AWS_STORAGE_BUCKET_NAME: files under MEDIA_ROOT, streamed by the app
# (no web server in front, and whitenoise serves static files only).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = "/media/"
# How long a signed download URL of the object store stays valid (seconds): a
# download is answered with a redirect to one, made at that request.
STORAGE_URL_EXPIRES = int(os.environ.get("STORAGE_URL_EXPIRES", "300"))
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")


def s3_storage(bucket, *, endpoint_url=None, region=None, access_key=None, secret_key=None):
    """STORAGES["default"] for an S3 bucket (django-storages). Every object is private:
    no ACL is sent, so the bucket's default (owner only) applies; URLs are signed and
    short-lived; a name is never overwritten (a new upload with a taken name gets a
    suffix). Also used by the tests' S3 server (tests/s3_server.py)."""
    from botocore.config import Config  # only with a bucket: boto3 stays unloaded otherwise

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url or None,
            "region_name": region or None,
            # None: boto3's own chain (environment, instance role) finds the credentials.
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": STORAGE_URL_EXPIRES,
            "file_overwrite": False,
            "client_config": Config(
                # Signature v4: the expiry is in the URL (X-Amz-Expires), at most 7 days.
                signature_version="s3v4",
                # "path" for stores without a DNS name per bucket (MinIO and the like).
                s3={"addressing_style": os.environ.get("AWS_S3_ADDRESSING_STYLE") or None},
                # A store that does not answer fails the request in seconds, not minutes.
                connect_timeout=5,
                read_timeout=30,
                retries={"mode": "standard", "max_attempts": 3},
            ),
        },
    }


if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = s3_storage(
        AWS_STORAGE_BUCKET_NAME,
        endpoint_url=os.environ.get("AWS_S3_ENDPOINT_URL"),
        region=os.environ.get("AWS_S3_REGION_NAME"),
        access_key=os.environ.get("AWS_ACCESS_KEY_ID"),
        secret_key=os.environ.get("AWS_SECRET_ACCESS_KEY"),
    )
# Form fields beside files (not the files) held in memory: Django's 2.5 MB default.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# A file above this goes to a temporary file on disk while its request is read.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 20
# Files shared in messages (attachments/): the largest file, files per message, and
# files per user per window ("<count>/<seconds>").
ATTACHMENT_MAX_BYTES = int(os.environ.get("ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024))
ATTACHMENT_MAX_FILES = 10
ATTACHMENT_RATE = tuple(int(part) for part in os.environ.get("ATTACHMENT_RATE", "60/600").split("/"))
# A request larger than this is refused before its body is read (config/asgi.py).
REQUEST_MAX_BYTES = ATTACHMENT_MAX_BYTES * ATTACHMENT_MAX_FILES + 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- Background work ----------------------------------------------------------
# Django's Tasks API (django-tasks, the backport of Django 6's django.tasks), queued
# in the database, so nothing new has to run: `manage.py worker` (Procfile worker:)
# runs them, periodic ones included (config/schedule.py).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# --- Web Push (notifications/push.py) ------------------------------------------------
# This server's VAPID key pair (base64url: the private key's 32 bytes, the public key's
# uncompressed point) and the contact push services see. Without a pair, push is off.
# In development, when unset, the pair `manage.py vapid_keys` wrote (`make run` does).
VAPID_KEYS_FILE = Path(os.environ.get("VAPID_KEYS_FILE") or BASE_DIR / ".vapid.json")
VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY", "")
VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "")
VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT") or f"mailto:{DEFAULT_FROM_EMAIL}"
if DEBUG and not (VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY) and VAPID_KEYS_FILE.is_file():
    _vapid = json.loads(VAPID_KEYS_FILE.read_text())
    VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY = _vapid["public_key"], _vapid["private_key"]
# Tests only: push endpoints may also be http on loopback (the tests' push service).
# Production posts only to https URLs of public addresses, and refuses this setting.
PUSH_ALLOW_INSECURE = env_bool("PUSH_ALLOW_INSECURE", default=False)
if PUSH_ALLOW_INSECURE and not DEBUG:
    raise ImproperlyConfigured("PUSH_ALLOW_INSECURE is for tests (DEBUG=1) only.")

# --- Link previews (messages_app/previews.py) ------------------------------------------
# The worker fetches the first link of a message from public addresses only. Tests only:
# loopback too (the tests' web server); production refuses this setting.
LINK_PREVIEW_ALLOW_LOOPBACK = env_bool("LINK_PREVIEW_ALLOW_LOOPBACK", default=False)
if LINK_PREVIEW_ALLOW_LOOPBACK and not DEBUG:
    raise ImproperlyConfigured("LINK_PREVIEW_ALLOW_LOOPBACK is for tests (DEBUG=1) only.")

# --- Chat rules -------------------------------------------------------------
CHAT_MESSAGE_MAX_LENGTH = 4000
CHAT_RATE_LIMIT = os.environ.get("CHAT_RATE_LIMIT", "30/10")
# Incoming webhooks (api/webhooks.py): posts per hook, `<count>/<seconds>` (`0`: no limit),
# on top of CHAT_RATE_LIMIT for the hook's bot; and the largest body a hook accepts.
WEBHOOK_RATE_LIMIT = os.environ.get("WEBHOOK_RATE_LIMIT", "30/60")
WEBHOOK_MAX_BYTES = int(os.environ.get("WEBHOOK_MAX_BYTES", str(64 * 1024)))
# Sockets one user may hold open at once, every room and server process together (0: no
# cap); the next one is closed with 4429. Each open tab of a room holds one.
CHAT_MAX_SOCKETS_PER_USER = int(os.environ.get("CHAT_MAX_SOCKETS_PER_USER", "20"))
# Presence: each open socket's entry lives this many seconds unless its consumer
# refreshes it (every third of that), so a killed process's entries vanish.
CHAT_PRESENCE_TTL = float(os.environ.get("CHAT_PRESENCE_TTL", "30"))
# Online dots: a page asks again who of the people it shows is online this often (seconds).
CHAT_PRESENCE_POLL_SECONDS = float(os.environ.get("CHAT_PRESENCE_POLL_SECONDS", "20"))
# "bob is typing…": the browser sends one frame per 3 s while typing; the server
# relays at most one per socket per this many seconds.
CHAT_TYPING_THROTTLE = float(os.environ.get("CHAT_TYPING_THROTTLE", "2.5"))

# --- Security (production) --------------------------------------------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=True)
    if env_bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Logging ------------------------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "filters": {
        "client_faults": {"()": "config.logfilters.ClientFaultFilter"},
        "refusals": {"()": "config.logfilters.RefusalFilter"},
        "suspicious": {"()": "config.logfilters.SuspiciousRequestFilter"},
    },
    # Everything propagates to the root's console handler, so tests (caplog) and
    # production logs see the same records; 500s are logged even with DEBUG off.
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django": {"handlers": [], "level": "WARNING"},
        # A client's bad frame is not a server error (config/logfilters.py).
        "uvicorn.error": {"filters": ["client_faults"]},
        # A 403 the app chose is one line, not a traceback (config/logfilters.py).
        "django.request": {"filters": ["refusals"]},
        # A request Django refused as suspicious is the client's fault (config/logfilters.py).
        **{name: {"filters": ["suspicious"]} for name in SUSPICIOUS_LOGGERS},
        **{
            app: {"level": LOG_LEVEL}
            for app in ("accounts", "rooms", "messages_app", "attachments", "notifications", "api", "config")
        },
        # The worker's own lines: each task started, finished or failed.
        "django_tasks": {"level": LOG_LEVEL},
        "django_tasks_db": {"level": LOG_LEVEL},
    },
}
