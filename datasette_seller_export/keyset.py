"""The keyset engine: one organisation's live sellers, `created_at DESC, id DESC`, in batches.

Each batch is one query that walks the `(org_id, created_at, id)` index backwards from just
after the last row of the previous batch, so every batch costs the same however deep into the
export it is, and a row is never written twice (keys only decrease). Rows whose `created_at`
is NULL sort after all dated rows; a row-value comparison is false for them, so the query
past a dated row reads on into them with a second, equally indexed arm (`UNION ALL`, which
SQLite runs only when the first arm runs short).

Pure: `batch_query` builds SQL and parameters, `iter_batches` drives any async `execute`
(Datasette's database layer over HTTP, a plain connection in the command line).
"""

from dataclasses import dataclass
from typing import Awaitable, Callable, Optional, Sequence


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


def _quote_identifier(name):
    return '"' + name.replace('"', '""') + '"'


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
    table = _quote_identifier(selection.table)
    return f"SELECT count(*) FROM {table} WHERE {' AND '.join(where)}", params


def batch_query(
    selection: Selection, row_sql: str, limit: int, after: Optional[Position] = None, separator=b""
):
    """SQL and parameters for the `limit` rows that follow `after` (or the first `limit`).

    The query returns one row for the whole batch: the rows' encodings (`row_sql`) joined by
    `separator` as one BLOB, the row count, and the keyset of the last row. One row, so that
    SQLite walks, encodes and joins the whole batch without coming back to Python (and its
    GIL) per row. `group_concat` joins in the order the ordered subquery yields its rows
    (SQLite cannot flatten a subquery with LIMIT into an aggregate); the last row's key does
    not rely on that order: among dated rows it is the least `(created_at, id)`, found as
    the least `hex(created_at) || ' ' || hex(id)` (hex keeps byte order, and a space sorts
    before every hex digit, so a shorter created_at that is a prefix still sorts first);
    once undated rows have begun, it is the least id among them.
    """
    table = _quote_identifier(selection.table)
    where, params = _conditions(selection)
    params.update(limit=limit, separator=separator)

    def arm(extra, order):
        conditions = " AND ".join(where + extra)
        return (
            f"SELECT {row_sql} AS encoded_row, created_at, id FROM {table}"
            f" WHERE {conditions} ORDER BY {order} LIMIT :limit"
        )

    if after is None:
        rows = arm([], "created_at DESC, id DESC")
    elif after.created_at is None:
        params["after_id"] = after.id
        rows = arm(["created_at IS NULL", "id < :after_id"], "id DESC")
    else:
        params.update(after_id=after.id, after_created_at=after.created_at)
        dated = arm(["(created_at, id) < (:after_created_at, :after_id)"], "created_at DESC, id DESC")
        undated = arm(["created_at IS NULL"], "id DESC")
        rows = f"SELECT * FROM ({dated}) UNION ALL SELECT * FROM ({undated}) LIMIT :limit"
    sql = (
        "SELECT CAST(group_concat(encoded_row, :separator) AS BLOB), count(*), count(created_at),"
        " min(CASE WHEN created_at IS NOT NULL THEN hex(created_at) || ' ' || hex(id) END),"
        " min(CASE WHEN created_at IS NULL THEN id END)"
        f" FROM ({rows})"
    )
    return sql, params


@dataclass(frozen=True)
class Batch:
    encoded: bytes  # every row's encoding, joined by the separator
    count: int
    position: Optional[Position]  # just after the last row; None for an empty batch


Execute = Callable[[str, dict], Awaitable[Sequence[Sequence]]]


def _position(count, dated_count, last_dated_key, last_undated_id):
    if count == 0:
        return None
    if dated_count < count:
        return Position(created_at=None, id=last_undated_id)
    created_at, id_ = (bytes.fromhex(part).decode("utf-8") for part in last_dated_key.split(" "))
    return Position(created_at=created_at, id=id_)


async def fetch_batch(execute: Execute, selection, row_sql, limit, after=None, separator=b""):
    """The `limit` rows after `after`, encoded and joined: one query."""
    sql, params = batch_query(selection, row_sql, limit, after, separator)
    encoded, count, dated_count, last_dated_key, last_undated_id = (await execute(sql, params))[0]
    position = _position(count, dated_count, last_dated_key, last_undated_id)
    return Batch(encoded=encoded or b"", count=count, position=position)


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
