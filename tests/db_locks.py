"""Row locks taken by another Postgres connection, to hold a save midway on purpose."""

import asyncio
import contextlib

import psycopg
from django.db import connection


@contextlib.asynccontextmanager
async def room_row_locked(room):
    """Another transaction holds the room's row FOR UPDATE, so inserting a message into
    the room waits (its foreign key check needs a share lock on that row)."""
    db = connection.settings_dict
    locker = await psycopg.AsyncConnection.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432
    )
    try:
        await locker.execute("SELECT id FROM rooms_room WHERE id = %s FOR UPDATE", [room.pk])
        yield locker
    finally:
        await locker.rollback()
        await locker.close()


async def until_a_query_waits_for_a_lock(locker, timeout=5):
    query = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    for _ in range(int(timeout / 0.05)):
        if (await (await locker.execute(query)).fetchone())[0]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("no query waited for the lock")
