"""The bench's own world: a dedicated Postgres database, a Redis prefix, the
environment of production mode, and users, rooms, memberships and sessions
created in bulk.

Nothing here touches the development database or another run's keys: the
database is dropped and created by name, and every run's channel layer keys
carry a fresh prefix that is deleted at the end.
"""

import contextlib
import os
import secrets
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import psycopg
import redis
from psycopg import sql

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Where the bench may create and drop databases (a server, not a database it uses).
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SESSION_BACKEND = "django.contrib.auth.backends.ModelBackend"
BULK_BATCH = 2000


@dataclass
class BenchEnvironment:
    """What every process of one run shares: database, Redis prefix, secret key."""

    db_name: str
    prefix: str = field(default_factory=lambda: f"bench-{secrets.token_hex(4)}")
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    layer: str = "core"
    log_level: str = "INFO"
    variants: tuple = ()  # bench/asgi_variants.py

    @property
    def database_url(self):
        base = POSTGRES_URL.rsplit("/", 1)[0]
        return f"{base}/{self.db_name}"

    def variables(self):
        """Production mode (DEBUG off, Postgres, Redis) on plain HTTP, rate limit off."""
        venv_bin = str(Path(sys.executable).parent)
        return {
            "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": REDIS_URL,
            "CHANNEL_LAYER_PREFIX": self.prefix,
            "CHANNEL_LAYER_BACKEND": self.layer,
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            # The bench sends far faster than a person; the limit has its own tests.
            "CHAT_RATE_LIMIT": "0",
            "LOG_LEVEL": self.log_level,
            "BENCH_VARIANTS": ",".join(self.variants),
            "PYTHONUNBUFFERED": "1",
        }

    def server_environment(self):
        return {**os.environ, **self.variables()}


def database_recreate(db_name):
    """Drop and create the bench's database (never one the bench did not name)."""
    if not db_name.startswith("chat_bench"):
        raise SystemExit(f"Refusing to drop {db_name!r}: bench databases are named chat_bench*.")
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db_name)))


def database_drop(db_name):
    from django.db import connections

    # Close this process's pooled connections first, or DROP waits for them.
    for connection in connections.all(initialized_only=True):
        connection.close()
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name)))


def database_exists(db_name):
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db_name]).fetchone() is not None


def django_setup(env):
    """Configure Django in this process with the servers' own settings."""
    os.environ.update(env.variables())
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()


def migrate():
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def redis_prefix_delete(prefix):
    """Delete this run's channel layer and presence keys."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
    client.close()
    return len(keys)


@dataclass(frozen=True)
class Member:
    user_id: int
    session_key: str


@dataclass(frozen=True)
class BenchRoom:
    slug: str
    members: tuple  # Member, in the order the senders take turns


def _users_create(label, count):
    """`count` users with an unusable password, in batches."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    User = get_user_model()
    password = make_password(None)  # unusable; the session hash is derived from it all the same
    users = [
        User(username=f"{label}-{i}", email=f"{label}-{i}@bench.invalid", password=password)
        for i in range(count)
    ]
    return User.objects.bulk_create(users, batch_size=BULK_BATCH)


def _sessions_create(users):
    """A logged-in session per user, written straight into the session table."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    store, expire = SessionStore(), timezone.now() + timedelta(days=1)
    sessions = []
    for user in users:
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: SESSION_BACKEND,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
    Session.objects.bulk_create(sessions, batch_size=BULK_BATCH)
    return [session.session_key for session in sessions]


def rooms_create(*, label, rooms, members):
    """`rooms` public rooms of `members` members each (every user in one room),
    with a session per user. Returns BenchRoom list."""
    from rooms.models import Membership, Room

    users = _users_create(label, rooms * members)
    session_keys = _sessions_create(users)
    room_rows = Room.objects.bulk_create(
        [Room(name=f"{label} {r}", slug=f"{label}-{r}", created_by=users[r * members]) for r in range(rooms)],
        batch_size=BULK_BATCH,
    )
    memberships = [
        Membership(
            room=room_rows[r],
            user=users[r * members + m],
            role=Membership.Role.OWNER if m == 0 else Membership.Role.MEMBER,
        )
        for r in range(rooms)
        for m in range(members)
    ]
    Membership.objects.bulk_create(memberships, batch_size=BULK_BATCH)
    return [
        BenchRoom(
            slug=room_rows[r].slug,
            members=tuple(
                Member(users[r * members + m].pk, session_keys[r * members + m]) for m in range(members)
            ),
        )
        for r in range(rooms)
    ]


def message_count(slugs):
    """Rows saved so far in these rooms (the bench's measure of "messages saved")."""
    from messages_app.models import Message

    return Message.objects.filter(room__slug__in=slugs).count()


def raise_open_file_limit(wanted):
    """Raise this process's soft limit on open files (children inherit it); return it."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def machine_summary():
    """Lines naming the machine and the versions a figure depends on."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    with open("/proc/meminfo") as meminfo:
        ram_gib = int(meminfo.readline().split()[1]) / 1024 / 1024
    with open("/proc/cpuinfo") as cpuinfo:
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    packages = []
    for name in (
        "django",
        "channels",
        "channels-redis",
        "redis",
        "uvicorn",
        "uvloop",
        "daphne",
        "websockets",
    ):
        with contextlib.suppress(PackageNotFoundError):
            packages.append(f"{name} {version(name)}")
    with psycopg.connect(POSTGRES_URL) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    redis_version = redis.Redis.from_url(REDIS_URL).info("server")["redis_version"]
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"machine: {os.cpu_count()} cores ({cpu}), {ram_gib:.1f} GiB RAM, {platform.platform()}",
        f"software: Python {platform.python_version()}, PostgreSQL {postgres}, Redis {redis_version}, "
        + ", ".join(packages),
        f"load average before the run: {load} (other work on the machine shares its cores)",
    ]


def redis_cpu_seconds():
    """CPU seconds the Redis server has used so far (it serves every process of the run)."""
    info = redis.Redis.from_url(REDIS_URL).info("cpu")
    return info["used_cpu_sys"] + info["used_cpu_user"]


def postgres_backend_pids(db_name):
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [db_name]).fetchall()
    return [row[0] for row in rows]
