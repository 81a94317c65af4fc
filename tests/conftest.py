import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels_redis.core import ChannelLock
from django.db import connections

from tests.factories import MembershipFactory, RoomFactory, UserFactory

pytest_plugins = ["tests.live_server"]


def pytest_collection_modifyitems(items):
    """Browser tests last: Playwright's sync API keeps an event loop in the main
    thread, which would disturb the asyncio tests that run after it."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)


@pytest.fixture(scope="session", autouse=True)
def close_connection_pools(django_db_setup):
    """Consumers run queries in worker threads whose pooled connections outlive
    the tests; close the pools so the test database can be dropped."""
    yield
    connections.close_all()
    for connection in connections.all(initialized_only=True):
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()


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
