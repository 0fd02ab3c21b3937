"""Test-only plugin, loaded into a served Datasette with --plugins-dir.

It counts the export's batch queries (GET /-/test/batches) and, when told by environment
variables, slows each batch down or makes every Nth one fail, so that the tests can watch a real
server stop an abandoned export and abort a failing one.
"""

import asyncio
import os
import sqlite3

from datasette import hookimpl
from datasette.utils.asgi import Response

batches = {"count": 0}


@hookimpl
def startup(datasette):
    fail_at = int(os.environ.get("TEST_FAIL_AT_BATCH", "0"))
    delay = float(os.environ.get("TEST_BATCH_DELAY", "0"))
    db = datasette.get_database("sellers")
    original_execute = db.execute

    async def execute(sql, params=None, **kwargs):
        if "row_text" in sql:
            batches["count"] += 1
            if delay:
                await asyncio.sleep(delay)
            if fail_at and batches["count"] % fail_at == 0:
                raise sqlite3.OperationalError("injected fault in batch %d" % batches["count"])
        return await original_execute(sql, params, **kwargs)

    db.execute = execute


@hookimpl
def register_routes():
    async def count(request):
        return Response.json(batches)

    return [(r"^/-/test/batches$", count)]
