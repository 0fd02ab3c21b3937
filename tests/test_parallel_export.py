"""Exports with several batches under way at once: the same bytes at every parallelism, an
error in a middle batch still aborts, a hang-up cancels the queries under way, and exports
leave Datasette's other requests a read thread."""

import asyncio
import time

import httpx
import pytest
from support.clients import raw_get, served_config
from support.oracle import expected_export
from support.sellers import ADMIN, build_sellers_db

from datasette_seller_export.engine.database import SharedThreads, threaded_execute
from datasette_seller_export.engine.functions import register_functions

PARALLELISMS = [1, 2, 4]
# A query that runs for minutes unless it is stopped.
ENDLESS_SQL = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build_sellers_db(
        tmp_path_factory.mktemp("parallel") / "sellers.db", {"big": 3_000, "small": 7}
    )


def server_args(tmp_path, db, parallel, batch_size=40):
    name = f"datasette-{parallel}.json"
    return [db, *served_config(tmp_path, name, batch_size=batch_size, parallel_batches=parallel)]


@pytest.mark.parametrize("parallel", PARALLELISMS)
def test_every_parallelism_sends_the_same_bytes(serve, tmp_path, db, parallel):
    server = serve(*server_args(tmp_path, db, parallel))
    cookies = server.cookies(ADMIN)
    for fmt in ("csv", "json", "ndjson"):
        for query, expected in [
            ({}, {}),
            ({"flagged": "true"}, {"flagged": True}),
            ({"_sort": "feedback_percent"}, {"sort": ("feedback_percent", False)}),
            ({"_sort_desc": "display_name"}, {"sort": ("display_name", True)}),
        ]:
            response = httpx.get(
                f"{server.url}/export/sellers/{fmt}",
                params={"org_id": "big", **query},
                cookies=cookies,
                timeout=30,
            )
            assert response.status_code == 200
            assert response.text == expected_export(db, "big", fmt, **expected), (fmt, query)


@pytest.mark.parametrize("parallel", PARALLELISMS)
def test_an_error_in_a_middle_batch_aborts_the_connection(serve, tmp_path, db, parallel):
    server = serve(*server_args(tmp_path, db, parallel), env_extra={"TEST_FAIL_AT_BATCH": "5"})
    status, _, chunks, complete = raw_get(server, "/export/sellers/csv?org_id=big", ADMIN)
    assert status == 200 and not complete
    assert len(chunks) == 4  # the batches before the failing one, in order, and no more
    sent, whole = b"".join(chunks).decode(), expected_export(db, "big", "csv")
    assert whole.startswith(sent) and len(sent) < len(whole)
    log = server.stop()
    assert "failed after the first byte; aborting the connection" in log
    assert "injected fault in batch 5" in log


@pytest.mark.parametrize("parallel", PARALLELISMS)
def test_an_error_in_the_first_batch_is_a_json_error(serve, tmp_path, db, parallel):
    server = serve(*server_args(tmp_path, db, parallel), env_extra={"TEST_FAIL_AT_BATCH": "1"})
    response = httpx.get(
        server.url + "/export/sellers/json?org_id=big", cookies=server.cookies(ADMIN), timeout=20
    )
    assert response.status_code == 500
    assert response.json()["error"].startswith("The sellers database could not be read")


@pytest.mark.parametrize("parallel", PARALLELISMS)
def test_a_hang_up_cancels_the_batches_under_way(serve, tmp_path, db, parallel):
    # 75 batches of 40 ms each: three seconds at one at a time.
    server = serve(*server_args(tmp_path, db, parallel), env_extra={"TEST_BATCH_DELAY": "0.04"})
    status, _, chunks, complete = raw_get(
        server, "/export/sellers/ndjson?org_id=big", ADMIN, read_chunks=2
    )
    assert status == 200 and len(chunks) == 2 and not complete
    time.sleep(0.5)
    counts = httpx.get(server.url + "/-/test/batches").json()
    assert counts["under_way"] == 0
    time.sleep(0.5)
    assert httpx.get(server.url + "/-/test/batches").json()["count"] == counts["count"]
    # Within one round of batches: those sent, those under way, and the one that noticed.
    assert counts["count"] <= 2 + parallel + 1
    assert "client disconnected, export stopped" in server.stop()


async def assert_a_cancelled_query_frees_its_only_thread(execute):
    """A query that would run for minutes is cancelled: the one thread is free for the next
    query at once, not when the query would have ended."""
    endless = asyncio.ensure_future(execute(ENDLESS_SQL, {}))
    await asyncio.sleep(0.2)
    endless.cancel()
    with pytest.raises(asyncio.CancelledError):
        await endless
    # Not a speed check: the bound tells "freed" from "held for minutes" and stops the wait.
    small = execute("SELECT count(*) FROM sellers WHERE org_id = 'small'", {})
    assert await asyncio.wait_for(small, timeout=30) == [(10,)]


@pytest.mark.asyncio
async def test_a_cancelled_query_lets_go_of_datasettes_thread(make_datasette, db):
    from datasette_seller_export.engine.database import datasette_execute

    ds = await make_datasette(db, settings={"num_sql_threads": 1, "sql_time_limit_ms": 600_000})
    await assert_a_cancelled_query_frees_its_only_thread(
        datasette_execute(ds, ds.get_database("sellers"))
    )


@pytest.mark.asyncio
async def test_a_cancelled_query_lets_go_of_the_command_lines_thread(db):
    async with threaded_execute(db, 1, register_functions) as execute:
        await assert_a_cancelled_query_frees_its_only_thread(execute)


@pytest.mark.asyncio
@pytest.mark.parametrize("count", [1, 2, 3])
async def test_exports_share_a_bounded_number_of_threads(count):
    under_way, most = 0, 0

    async def execute(sql, params):
        nonlocal under_way, most
        under_way += 1
        most = max(most, under_way)
        await asyncio.sleep(0.01)
        under_way -= 1
        return sql

    limited = SharedThreads(count).limit(execute)
    results = await asyncio.gather(*(limited(str(n), {}) for n in range(12)))
    assert results == [str(n) for n in range(12)] and most == count


@pytest.mark.parametrize("value, shown", [(0, "0"), (17, "17"), ("2", "'2'"), (True, "True")])
def test_a_bad_parallel_batches_stops_datasette(tmp_path, db, value, shown):
    from datasette.app import Datasette
    from datasette.utils import StartupError

    ds = Datasette(
        [db], config={"plugins": {"datasette-seller-export": {"parallel_batches": value}}}
    )
    message = f"setting 'parallel_batches' must be a whole number from 1 to 16, not {shown}$"
    with pytest.raises(StartupError, match=message):
        asyncio.run(ds.invoke_startup())
