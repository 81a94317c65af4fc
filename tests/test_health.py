"""GET /healthz reports the database and the channel layer, for real."""

import pytest
from django.test import override_settings

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("close_worker_thread_connections"),
]

DEAD_REDIS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},  # nothing listens on port 1
    }
}


async def test_healthz_is_ok_with_postgres_and_redis_up(async_client):
    response = await async_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "channel_layer": "ok"}


@pytest.mark.allow_error_log  # an unreachable Redis is a server fault, logged as one
async def test_healthz_is_503_naming_the_channel_layer_when_redis_is_unreachable(async_client):
    with override_settings(CHANNEL_LAYERS=DEAD_REDIS):
        response = await async_client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "channel_layer": "unavailable"}


async def test_healthz_needs_no_login(async_client):
    response = await async_client.get("/healthz")
    assert response.status_code != 302
