"""Test-only plugin, loaded into a served Datasette with --plugins-dir.

It wraps the database layer every surface reads through (`engine.database.datasette_execute`:
the exports, the API, the browse page), counts its queries (GET /-/test/batches) and, when told
by environment variables, slows each one down or makes every Nth one fail (with the message
TEST_FAULT_MESSAGE, if given), so that the tests can watch a real server stop an abandoned
export, abort a failing one, and report a failure on every surface.
"""

import asyncio
import os
import sqlite3

from datasette import hookimpl
from datasette.utils.asgi import Response

from datasette_seller_export.engine import database

batches = {"count": 0}


@hookimpl
def startup(datasette):
    fail_every = int(os.environ.get("TEST_FAIL_AT_BATCH", "0"))
    delay = float(os.environ.get("TEST_BATCH_DELAY", "0"))
    message = os.environ.get("TEST_FAULT_MESSAGE", "injected fault in batch {count}")
    real_datasette_execute = database.datasette_execute

    def datasette_execute(datasette, db):
        execute = real_datasette_execute(datasette, db)

        async def faulty_execute(sql, params, **options):
            batches["count"] += 1
            if delay:
                await asyncio.sleep(delay)
            if fail_every and batches["count"] % fail_every == 0:
                raise sqlite3.OperationalError(message.format(count=batches["count"]))
            return await execute(sql, params, **options)

        return faulty_execute

    database.datasette_execute = datasette_execute


@hookimpl
def register_routes():
    async def count(request):
        return Response.json(batches)

    return [(r"^/-/test/batches$", count)]
