import functools
import logging

import psycopg
import pytest
import redis
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels_redis.core import ChannelLock
from django.conf import settings
from django.db import connections

from tests.factories import MembershipFactory, RoomFactory, UserFactory

pytest_plugins = ["tests.live_server", "tests.smtp_server"]


def pytest_collection_modifyitems(items):
    """Browser tests last: Playwright's sync API keeps an event loop in the main
    thread, which would disturb the asyncio tests that run after it."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)


def pytest_configure(config):
    config.addinivalue_line("markers", "allow_error_log: the test provokes a server error on purpose")


def tracebacks(records, *, loggers=None):
    """ERROR records carrying a traceback (from `loggers` only, if given), as text."""
    return [
        f"{record.name}: {record.getMessage()} ({record.exc_info[0].__name__})"
        for record in records
        if record.levelno >= logging.ERROR and record.exc_info and (loggers is None or record.name in loggers)
    ]


@pytest.fixture(autouse=True)
def clean_log(request, caplog):
    """User input never leaves a traceback at ERROR level (issue 19): no test may log an
    ERROR record with a traceback, from any logger (a 500 from a view, a consumer, the
    layer, the worker), unless it is marked allow_error_log: a fault it provokes."""
    yield
    if request.node.get_closest_marker("allow_error_log"):
        return
    found = tracebacks(caplog.get_records("call"))
    if found:
        pytest.fail("a traceback was logged at ERROR level:\n" + "\n".join(found), pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def close_connection_pools(django_db_setup):
    """Consumers run queries in worker threads whose pooled connections outlive
    the tests; close the pools so the test database can be dropped."""
    yield
    connections.close_all()
    for connection in connections.all(initialized_only=True):
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()
    end_other_sessions_of_the_test_database()


def end_other_sessions_of_the_test_database():
    """Connections still held by other threads of this process (asgiref's executors,
    the presence threads) would stop pytest-django from dropping the test database."""
    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        return
    with psycopg.connect(
        dbname=database["NAME"],
        host=database["HOST"],
        port=database["PORT"] or None,
        user=database["USER"],
        autocommit=True,
    ) as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@functools.cache
def _redis():
    return redis.Redis.from_url(settings.REDIS_URL)


@pytest.fixture(autouse=True)
def fresh_counters():
    """Counters kept in Redis outlive a test (and a test run), and ids repeat from one
    run to the next: each test starts with none of allauth's login and sign-up counts
    (the cache), message rate limits or socket counts. Only this run's keys go (its
    prefixes): other runs may share the Redis database."""
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]  # the cache's is "<prefix>:cache"
    kinds = {b"ratelimit", b"sockets", b"cache"}
    keys = [key for key in _redis().scan_iter(match=f"{prefix}:*", count=1000) if key.split(b":")[1] in kinds]
    if keys:
        _redis().delete(*keys)


@pytest.fixture
async def close_worker_thread_connections():
    """For async tests: sync_to_async runs the ORM in asgiref's worker thread, whose
    pooled connection would stay checked out and block dropping the test database.
    (Not autouse: the browser tests are sync and must not get an async fixture.)"""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
async def channel_layer():
    """The real Redis channel layer, emptied before and after the test."""
    layer = get_channel_layer()
    await layer.flush()
    # channels-redis leaks a receive lock when a receive waiting for it is cancelled (a
    # socket closing while another reads): bound to an earlier test's event loop, it
    # would break the next receive that has to wait for it. One event loop in production.
    layer.receive_clean_locks = ChannelLock()
    yield layer
    await layer.flush()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def room(db):
    return RoomFactory()


@pytest.fixture
def member(room):
    return MembershipFactory(room=room).user


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server on loopback (tests/s3_server.py), started the first time a test
    asks for it and stopped with the session; runs that need none never import moto."""
    from tests.s3_server import S3Server

    server = S3Server()
    yield server
    server.stop()


@pytest.fixture
def s3_storage(s3_server, settings):
    """A fresh bucket, with STORAGES["default"] on it for this test. Assigning the
    setting sends setting_changed, on which Django drops its storages and
    default_storage's instance (django.test.signals.storages_changed); the settings
    fixture's undo at teardown sends it again, so the next test is back on MEDIA_ROOT."""
    bucket = s3_server.new_bucket()
    s3_server.use(settings, bucket)
    yield bucket
    s3_server.drop_bucket(bucket)


@pytest.fixture(scope="session")
def s3_asgi_server(s3_server, asgi_server_factory):
    """A real server process (tests/live_server.py) whose default storage is a bucket
    of its own on the S3 server: `s3_asgi_server.bucket`. A test that makes files for
    it puts itself on the same bucket: `s3_server.use(settings, s3_asgi_server.bucket)`."""
    bucket = s3_server.new_bucket()
    server = asgi_server_factory("s3", env=s3_server.environment(bucket))
    server.bucket = bucket
    return server
