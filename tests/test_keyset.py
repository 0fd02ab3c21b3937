"""The keyset engine on its own: every batch is an index range scan, and the batches add up to
the ordered rows exactly once, whatever the batch size."""

import sqlite3

import pytest
from support.plans import table_row_reads
from support.sellers import build_sellers_db

from datasette_seller_export.engine.batches import iter_batches, ranged_batches
from datasette_seller_export.engine.plans import with_search_plan
from datasette_seller_export.engine.queries import batch_query, boundary_query
from datasette_seller_export.engine.schema import SORTABLE_COLUMNS, sqlite_version_problem
from datasette_seller_export.engine.selection import (
    DEFAULT_SORT,
    Position,
    Search,
    Selection,
    Sort,
)

ROW_SQL = "CAST(id AS BLOB)"  # the engine does not care how a row is encoded; ids are easy to check


def sync_execute(conn):
    async def execute(sql, params, **options):
        return conn.execute(sql, params).fetchall()

    return execute


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = build_sellers_db(
        tmp_path_factory.mktemp("keyset") / "sellers.db", {"org-a": 120, "org-b": 30, "org-c": 1}
    )
    connection = sqlite3.connect(path)
    yield connection
    connection.close()


def expected_ids(conn, org_id, flagged=None):
    sql = "SELECT id FROM sellers WHERE org_id = ? AND deleted_at IS NULL"
    params = [org_id]
    if flagged is not None:
        sql += " AND flagged = ?"
        params.append(int(flagged))
    sql += " ORDER BY created_at IS NULL, created_at DESC, id DESC"
    return [row[0] for row in conn.execute(sql, params)]


@pytest.mark.asyncio
@pytest.mark.parametrize("batch_size", [1, 2, 3, 7, 29, 30, 31, 119, 120, 121, 1000])
@pytest.mark.parametrize("org_id", ["org-a", "org-b", "org-c", "org-missing"])
@pytest.mark.parametrize("flagged", [None, True, False])
async def test_batches_add_up_to_the_ordered_rows(conn, batch_size, org_id, flagged):
    selection = Selection("sellers", org_id, flagged)
    execute = sync_execute(conn)
    batches = [b async for b in iter_batches(execute, selection, ROW_SQL, batch_size, b"\n")]
    assert all(batch.count == batch_size for batch in batches[:-1])
    ids = [i for batch in batches for i in batch.encoded.decode().split("\n")]
    assert ids == expected_ids(conn, org_id, flagged)
    assert all(batch.count == len(batch.encoded.split(b"\n")) for batch in batches)


def test_the_data_has_the_hard_cases(conn):
    ties = conn.execute(
        "SELECT max(n) FROM"
        " (SELECT count(*) n FROM sellers WHERE org_id='org-a' GROUP BY created_at)"
    ).fetchone()[0]
    nulls = conn.execute(
        "SELECT count(*) FROM sellers WHERE org_id='org-a' AND created_at IS NULL"
    ).fetchone()[0]
    assert ties > 10 and nulls > 5


@pytest.mark.parametrize(
    "after,flagged",
    [
        (None, None),
        (Position("2025-01-15T08:30:00Z", "sid-x"), None),
        (Position("2025-01-15T08:30:00Z", "sid-x"), True),
        (Position(None, "sid-x"), False),
    ],
)
def test_every_batch_is_an_index_range_scan_with_no_sort(conn, after, flagged):
    sql, params = batch_query(Selection("sellers", "org-a", flagged), ROW_SQL, 100, after)
    plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
    scans = [step for step in plan if step.startswith(("SEARCH sellers", "SCAN sellers"))]
    assert scans and all(
        "USING INDEX idx_sellers_org_id_created_at_id (org_id=?" in s for s in scans
    ), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


def test_a_table_name_is_quoted():
    sql, _ = batch_query(Selection('odd "name"', "o"), ROW_SQL, 10)
    assert 'FROM "odd ""name"""' in sql


@pytest.mark.asyncio
@pytest.mark.parametrize("batch_size", [1, 2, 3, 4, 5, 100])
async def test_last_key_is_exact_for_prefixes_and_unicode(tmp_path, batch_size):
    """created_at values that are prefixes of one another, and ids beyond ASCII."""
    import sqlite_utils

    from datasette_seller_export.engine.schema import ensure_table

    db = sqlite_utils.Database(str(tmp_path / "prefix.db"))
    ensure_table(db)
    created = [
        "2025",
        "2025-01",
        "2025-01",
        "2025-01-01",
        "2025 ",
        "2025\x01",
        None,
        None,
        "é",
        "e",
    ]
    ids = ["a", "b", "ä", "aa", "z", "😀", "n1", "n2", "x", "y"]
    db["sellers"].insert_all(
        {"id": i, "org_id": "o", "created_at": c} for i, c in zip(ids, created, strict=True)
    )
    conn = sqlite3.connect(db.conn.execute("PRAGMA database_list").fetchone()[2])
    batches = [
        b
        async for b in iter_batches(
            sync_execute(conn), Selection("sellers", "o"), ROW_SQL, batch_size, b"\n"
        )
    ]
    assert [i for b in batches for i in b.encoded.decode().split("\n")] == expected_ids(conn, "o")
    conn.close()


@pytest.mark.parametrize(
    "version,ok", [((3, 35, 0), True), ((3, 40, 1), True), ((4, 0, 0), True), ((3, 34, 1), False)]
)
def test_sqlite_older_than_materialized_ctes_is_refused_with_the_fix(version, ok):
    problem = sqlite_version_problem(version)
    assert (problem is None) == ok
    if not ok:
        assert "3.35.0 or newer" in problem and "3.34.1" in problem
        assert "`pip install pysqlite3-binary`" in problem
        upgrade = sqlite_version_problem(version, pysqlite3=True)
        assert "Datasette's pysqlite3 has 3.34.1" in upgrade and "pip install -U" in upgrade


@pytest.mark.asyncio
async def test_a_listed_export_rechecks_every_row_it_listed(tmp_path):
    """Between listing a search's rows and reading a batch of them, rows can be deleted or
    (in a broken mirror) change organisation: a batch writes only rows that are still the
    organisation's and live."""
    path = build_sellers_db(tmp_path / "s.db", {"mine": 40, "theirs": 40})
    conn = sqlite3.connect(path)
    conn.execute("UPDATE sellers SET display_name = 'Listed ' || id")
    conn.commit()
    selection = Selection("sellers", "mine", search=Search("listed", "sellers_fts"))
    execute = sync_execute(conn)
    selection = await with_search_plan(execute, selection, most=1000)
    assert selection.search.matches is not None
    listed = expected_ids(conn, "mine")
    moved, deleted = listed[5], listed[20]
    queries = []

    async def execute_and_change(sql, params, **options):
        queries.append(sql)
        rows = await execute(sql, params)
        if len(queries) == 1:  # the list: now change two of its rows
            conn.execute("UPDATE sellers SET org_id = 'theirs' WHERE id = ?", [moved])
            conn.execute("UPDATE sellers SET deleted_at = 'now' WHERE id = ?", [deleted])
        return rows

    batches = [b async for b in iter_batches(execute_and_change, selection, ROW_SQL, 6, b"\n")]
    ids = [i for b in batches for i in b.encoded.decode().split("\n")]
    assert ids == [i for i in listed if i not in (moved, deleted)]
    assert len(queries) == 1 + len(range(0, len(listed), 6))
    conn.close()


# --- ranges: batches that start before the one before them has ended ----------------------


def expected_in_order(conn, selection):
    """The selection's ids in its order, by a plain ORDER BY (NULLs where the sort says)."""
    sort = selection.sort
    direction = "DESC" if sort.descending else "ASC"
    nulls = "LAST" if sort.nulls_last else "FIRST"
    sql = (
        f"SELECT id FROM sellers WHERE org_id = ? AND deleted_at IS NULL"
        f" AND (? IS NULL OR flagged = ?)"
        f" ORDER BY {sort.column} {direction} NULLS {nulls}, id {direction}"
    )
    flagged = None if selection.flagged is None else int(selection.flagged)
    return [row[0] for row in conn.execute(sql, [selection.org_id, flagged, flagged])]


SORTS = [Sort(c, d) for c in SORTABLE_COLUMNS for d in (True, False)] + [DEFAULT_SORT.reversed()]


@pytest.mark.asyncio
@pytest.mark.parametrize("sort", SORTS, ids=lambda s: f"{s.column}-{s.descending}-{s.nulls_last}")
@pytest.mark.parametrize("parallel", [2, 3])
async def test_ranges_add_up_to_the_ordered_rows_in_every_order(conn, sort, parallel):
    execute = sync_execute(conn)
    for org_id, flagged in [("org-a", None), ("org-a", True), ("org-b", False), ("org-c", None)]:
        selection = Selection("sellers", org_id, flagged, sort=sort)
        for batch_size in (1, 2, 7, 30, 1000):
            batches = [
                b
                async for b in ranged_batches(
                    execute, selection, ROW_SQL, batch_size, b"\n", parallel
                )
            ]
            ids = [i for batch in batches for i in batch.encoded.decode().split("\n")]
            assert ids == expected_in_order(conn, selection), (org_id, flagged, batch_size)
            assert all(0 < batch.count <= batch_size for batch in batches)


@pytest.mark.asyncio
@pytest.mark.parametrize("parallel", [1, 2, 4])
@pytest.mark.parametrize("batch_size", [1, 3, 29, 1000])
async def test_every_parallelism_gives_the_same_bytes(conn, parallel, batch_size):
    execute = sync_execute(conn)
    for sort in (DEFAULT_SORT, Sort("feedback_percent", descending=False)):
        selection = Selection("sellers", "org-a", sort=sort)
        batches = iter_batches(execute, selection, ROW_SQL, batch_size, b"\n", parallel)
        encoded = b"\n".join([b.encoded async for b in batches])
        assert encoded.decode().split("\n") == expected_in_order(conn, selection)


@pytest.mark.parametrize("sort", [DEFAULT_SORT, Sort("feedback_percent", descending=False)])
@pytest.mark.parametrize(
    "after,until",
    [
        (None, Position("2025-01-15T08:30:00Z", "sid-x")),
        (Position("2025-01-20T08:30:00Z", "sid-y"), Position("2025-01-15T08:30:00Z", "sid-x")),
        (Position("2025-01-15T08:30:00Z", "sid-x"), Position(None, "sid-x")),
        (Position(None, "sid-y"), Position(None, "sid-x")),
    ],
)
def test_ranges_and_boundaries_are_index_range_scans_with_no_sort(conn, sort, after, until):
    selection = Selection("sellers", "org-a", sort=sort)
    if sort != DEFAULT_SORT:
        after, until = (
            p and Position(None if p.value is None else 80.5, p.id) for p in (after, until)
        )
        if after and after.value is None and until.value is not None:
            after, until = until, after  # ascending: the rows with a value come first
    index = f"idx_sellers_org_id_{sort.column}_id"
    batch = batch_query(selection, ROW_SQL, 100, after, until=until)
    boundary = boundary_query(selection, 100, after)
    for sql, params in (batch, boundary):
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
        scans = [step for step in plan if step.startswith(("SEARCH sellers", "SCAN sellers"))]
        assert scans and all(f"USING INDEX {index} (org_id=?" in s for s in scans), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan
    # A boundary steps through the index alone: it holds live rows only, so no row is read.
    assert table_row_reads(conn, *boundary) == set()


@pytest.mark.asyncio
async def test_a_range_that_rows_were_written_into_reads_on(tmp_path):
    """Rows written into a range between finding its boundaries and reading it take it past
    its size: it reads them all, and every row that was there before still comes once."""
    path = build_sellers_db(tmp_path / "s.db", {"o": 60})
    conn = sqlite3.connect(path)
    selection = Selection("sellers", "o")
    before = expected_in_order(conn, selection)
    execute = sync_execute(conn)
    written = []

    async def execute_and_write(sql, params, **options):
        if "step" in params and not written:  # the first boundary: fill the first range
            rows = await execute(sql, params)
            (created_at, boundary_id) = rows[0]
            for n in range(25):  # just before the boundary, in the order
                row_id = f"{boundary_id}-new-{n:02}"
                conn.execute(
                    "INSERT INTO sellers (id, org_id, created_at) VALUES (?, 'o', ?)",
                    [row_id, created_at],
                )
                written.append(row_id)
            return rows
        return await execute(sql, params)

    batches = [b async for b in ranged_batches(execute_and_write, selection, ROW_SQL, 10, b"\n")]
    ids = [i for batch in batches for i in batch.encoded.decode().split("\n")]
    assert len(ids) == len(set(ids))
    assert ids == expected_in_order(conn, selection)
    assert set(before) | set(written) == set(ids)
    assert batches[0].count > 10
    conn.close()


def test_an_export_starts_with_a_small_batch_then_keeps_the_batch_size():
    from itertools import islice

    from datasette_seller_export.engine.batches import FIRST_BATCH_ROWS, batch_sizes

    assert list(islice(batch_sizes(2000), 3)) == [FIRST_BATCH_ROWS, 2000, 2000]
    assert list(islice(batch_sizes(40), 2)) == [40, 40]


def test_a_query_too_short_for_the_progress_handler_still_keeps_its_time_limit():
    import sqlite3
    import threading

    from datasette.database import QueryInterrupted

    from datasette_seller_export.engine.database import _run

    conn = sqlite3.connect(":memory:")
    assert _run(conn, "SELECT 1", {}, 1000, None, threading.Event()) == [(1,)]
    with pytest.raises(QueryInterrupted):  # no time at all: past it when it ends
        _run(conn, "SELECT 1", {}, 0, None, threading.Event())
