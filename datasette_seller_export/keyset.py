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


def batch_query(selection: Selection, row_sql: str, limit: int, after: Optional[Position] = None):
    """SQL and parameters for the `limit` rows that follow `after` (or the first `limit`).

    Each result row is `(text, created_at, id)`: the encoded row and its keyset.
    """
    table = _quote_identifier(selection.table)
    where = ["org_id = :org_id", "deleted_at IS NULL"]
    params = {"org_id": selection.org_id, "limit": limit}
    if selection.flagged is not None:
        where.append("flagged = :flagged")
        params["flagged"] = int(selection.flagged)

    def arm(extra, order):
        conditions = " AND ".join(where + extra)
        return (
            f"SELECT {row_sql} AS row_text, created_at, id FROM {table}"
            f" WHERE {conditions} ORDER BY {order} LIMIT :limit"
        )

    if after is None:
        return arm([], "created_at DESC, id DESC"), params
    params["after_id"] = after.id
    if after.created_at is None:
        return arm(["created_at IS NULL", "id < :after_id"], "id DESC"), params
    params["after_created_at"] = after.created_at
    dated = arm(["(created_at, id) < (:after_created_at, :after_id)"], "created_at DESC, id DESC")
    undated = arm(["created_at IS NULL"], "id DESC")
    return f"SELECT * FROM ({dated}) UNION ALL SELECT * FROM ({undated}) LIMIT :limit", params


Execute = Callable[[str, dict], Awaitable[Sequence[Sequence]]]


async def fetch_batch(execute: Execute, selection, row_sql, limit, after=None):
    """One batch: `(row_texts, position_after_last_row)`; the position is None when empty."""
    sql, params = batch_query(selection, row_sql, limit, after)
    rows = await execute(sql, params)
    if not rows:
        return [], None
    last = rows[-1]
    return [row[0] for row in rows], Position(created_at=last[1], id=last[2])


async def iter_batches(execute: Execute, selection, row_sql, batch_size, after=None):
    """Every row after `after`, as lists of encoded rows, one query per list."""
    while True:
        texts, position = await fetch_batch(execute, selection, row_sql, batch_size, after)
        if texts:
            yield texts
        if len(texts) < batch_size:
            return
        after = position
