"""The keyset engine: one organisation's live sellers, `created_at DESC, id DESC`, in batches.

Each batch is one query that walks the `(org_id, created_at, id)` index backwards from just
after the last row of the previous batch, so every batch costs the same however deep into the
export it is, and a row is never written twice (keys only decrease). Rows whose `created_at`
is NULL sort after all dated rows; a row-value comparison is false for them, so the query
past a dated row reads on into them with a second, equally indexed walk, which reads only as
many rows as the first one fell short of the batch.

Pure: `batch_query` builds SQL and parameters, `iter_batches` drives any async `execute`
(Datasette's database layer over HTTP, a plain connection in the command line).
"""

from dataclasses import dataclass
from typing import Awaitable, Callable, Optional, Sequence

from .schema import quote_identifier

# `AS MATERIALIZED` (see batch_query) arrived in SQLite 3.35.0, March 2021.
MINIMUM_SQLITE_VERSION = (3, 35, 0)


def sqlite_version_problem(version_info):
    """What stops the keyset queries from running on this SQLite, as a message; None if fine."""
    if tuple(version_info) >= MINIMUM_SQLITE_VERSION:
        return None
    needed = ".".join(map(str, MINIMUM_SQLITE_VERSION))
    return (
        f"SQLite {needed} or newer is needed, this Python has {'.'.join(map(str, version_info))}; "
        f"use a newer Python, or `pip install pysqlite3-binary`, which Datasette picks up"
    )


@dataclass(frozen=True)
class Position:
    """Where a batch ended: the keyset of its last row."""

    created_at: Optional[str]
    id: str


@dataclass(frozen=True)
class Selection:
    """Which rows: the live sellers of one organisation, optionally only (un)flagged ones."""

    table: str
    org_id: str
    flagged: Optional[bool] = None


def _conditions(selection: Selection):
    """The WHERE of every query: one organisation, live rows, the flagged filter."""
    where = ["org_id = :org_id", "deleted_at IS NULL"]
    params = {"org_id": selection.org_id}
    if selection.flagged is not None:
        where.append("flagged = :flagged")
        params["flagged"] = int(selection.flagged)
    return where, params


def count_query(selection: Selection):
    """How many rows the selection holds (an index range scan, like the batches)."""
    where, params = _conditions(selection)
    table = quote_identifier(selection.table)
    return f"SELECT count(*) FROM {table} WHERE {' AND '.join(where)}", params


def _last_row(column, part):
    # The part's rows are in the order the export writes them, so its last row is its newest
    # end of the keyset: one short scan of a table that already holds the batch.
    return f"(SELECT {column} FROM {part} LIMIT 1 OFFSET (SELECT count(*) FROM {part}) - 1)"


def batch_query(
    selection: Selection, row_sql: str, limit: int, after: Optional[Position] = None, separator=b""
):
    """SQL and parameters for the `limit` rows that follow `after` (or the first `limit`).

    The query returns one row for the whole batch: the row count, the `created_at` and `id` of
    the last row, and the rows' encodings (`row_sql`) joined by `separator`, as one BLOB per
    index walk (two when the batch runs from dated rows into undated ones).
    One row, so that SQLite walks, encodes and joins the whole batch without coming back to
    Python (and its GIL) per row.

    Each index walk is a MATERIALIZED common table expression: SQLite writes its rows to a
    temporary table once and the aggregates read them in place. (A plain subquery runs as a
    co-routine whose every text value is copied into a fresh allocation as it is read; SQLite
    allocations take one process-wide lock, so that copying is what kept concurrent exports
    from using both cores.) Rows go into the table in the walk's order, and `group_concat`
    and the last-row lookups read them back in that order.
    """
    table = quote_identifier(selection.table)
    where, params = _conditions(selection)
    params.update(limit=limit, separator=separator)
    newest_first = "created_at DESC, id DESC"
    if after is None:
        # NULL sorts below every value, so undated rows already come last in this walk.
        parts = [("batch", [], newest_first, ":limit")]
    elif after.created_at is None:
        params["after_id"] = after.id
        parts = [("undated", ["created_at IS NULL", "id < :after_id"], "id DESC", ":limit")]
    else:
        params.update(after_id=after.id, after_created_at=after.created_at)
        parts = [
            (
                "dated",
                ["(created_at, id) < (:after_created_at, :after_id)"],
                newest_first,
                ":limit",
            ),
            # Runs only as far as the dated rows fell short of the batch.
            ("undated", ["created_at IS NULL"], "id DESC", ":limit - (SELECT count(*) FROM dated)"),
        ]
    walks = ", ".join(
        f"{name} AS MATERIALIZED (SELECT {row_sql} AS encoded_row, created_at, id FROM {table}"
        f" WHERE {' AND '.join(where + extra)} ORDER BY {order} LIMIT {part_limit})"
        for name, extra, order, part_limit in parts
    )
    counts = [f"(SELECT count(*) FROM {name})" for name, *_ in parts]
    if len(parts) == 1:
        last_created_at, last_id = (
            _last_row(column, parts[0][0]) for column in ("created_at", "id")
        )
    else:
        # The batch ends in the undated walk if that found any rows, else in the dated one.
        ends_dated = f"{counts[1]} = 0"
        last_created_at = f"CASE WHEN {ends_dated} THEN {_last_row('created_at', 'dated')} END"
        last_id = (
            f"CASE WHEN {ends_dated} THEN {_last_row('id', 'dated')}"
            f" ELSE {_last_row('id', 'undated')} END"
        )
    # Each part's rows joined; fetch_batch joins the parts, so no batch-sized string is copied
    # in SQL to do it.
    encoded = ", ".join(
        f"CAST((SELECT group_concat(encoded_row, :separator) FROM {name}) AS BLOB)"
        for name, *_ in parts
    )
    sql = f"WITH {walks} SELECT {' + '.join(counts)}, {last_created_at}, {last_id}, {encoded}"
    return sql, params


@dataclass(frozen=True)
class Batch:
    encoded: bytes  # every row's encoding, joined by the separator
    count: int
    position: Optional[Position]  # just after the last row; None for an empty batch


Execute = Callable[[str, dict], Awaitable[Sequence[Sequence]]]


async def fetch_batch(execute: Execute, selection, row_sql, limit, after=None, separator=b""):
    """The `limit` rows after `after`, encoded and joined: one query."""
    sql, params = batch_query(selection, row_sql, limit, after, separator)
    count, last_created_at, last_id, *parts = (await execute(sql, params))[0]
    position = Position(created_at=last_created_at, id=last_id) if count else None
    return Batch(
        encoded=separator.join(part for part in parts if part), count=count, position=position
    )


async def iter_batches(execute: Execute, selection, row_sql, batch_size, separator=b""):
    """Every row, as Batches of up to `batch_size` rows, one query each."""
    after = None
    while True:
        batch = await fetch_batch(execute, selection, row_sql, batch_size, after, separator)
        if batch.count:
            yield batch
        if batch.count < batch_size:
            return
        after = batch.position
