"""Test-only plugin, loaded into a served Datasette with --plugins-dir.

It wraps the engine's `execute` that every surface reads through (the exports, the API, the
browse page), by the plugin's hook `seller_export_wrap_execute`; counts its queries
(GET /-/test/batches: `count`, and `under_way`, those not yet returned) and, when told by
environment variables, slows each one down or makes every Nth one fail (with the message
TEST_FAULT_MESSAGE, if given), so that the tests can watch a real server stop an abandoned
export, abort a failing one, and report a failure on every surface. A parallel export's walks
for boundaries (the only queries with a `step` parameter) and an export's look at the table's
schema (PRAGMAs and sqlite_master) are not batches: they are neither counted nor failed.
"""

import asyncio
import os
import sqlite3

from datasette import hookimpl
from datasette.utils.asgi import Response

batches = {"count": 0, "under_way": 0}


@hookimpl
def seller_export_wrap_execute(datasette):
    fail_every = int(os.environ.get("TEST_FAIL_AT_BATCH", "0"))
    delay = float(os.environ.get("TEST_BATCH_DELAY", "0"))
    message = os.environ.get("TEST_FAULT_MESSAGE", "injected fault in batch {count}")

    def wrap(execute):
        async def faulty_execute(sql, params, **options):
            if "step" in params or "pragma" in sql.lower() or "sqlite_master" in sql:
                return await execute(sql, params, **options)
            batches["count"] += 1
            count = batches["count"]
            if delay:
                await asyncio.sleep(delay)
            if fail_every and count % fail_every == 0:
                raise sqlite3.OperationalError(message.format(count=count))
            batches["under_way"] += 1
            try:
                return await execute(sql, params, **options)
            finally:
                batches["under_way"] -= 1

        return faulty_execute

    return wrap


@hookimpl
def register_routes():
    async def count(request):
        return Response.json(batches)

    return [(r"^/-/test/batches$", count)]
