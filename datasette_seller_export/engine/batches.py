"""The keyset engine's batch readers: every row of a Selection, as Batches of encoded rows,
one query each (see queries.py for the SQL and why it is shaped so).

They drive any async `execute(sql, params, **options)` that returns rows as tuples:
Datasette's database layer over HTTP, or threads with a connection each in the command line
(see database.py). Which rows, read how, is planned before (plans.py).
"""

import contextlib
from dataclasses import dataclass
from typing import Awaitable, Callable, Optional, Sequence

from .pipeline import in_order
from .queries import batch_query, boundary_query, listed_batch_query, match_list_query
from .selection import Position

Execute = Callable[[str, dict], Awaitable[Sequence[Sequence]]]

# The first batch of a whole export is this small, whatever the batch size: the first bytes
# wait for it alone, and 2,000 rows took 29-47 ms to encode before anything was sent, 200
# take 10-15 (docs/benchmarks.md#encoder). The rest keep the batch size: one query more in
# all. The first batch has its share of the time limit (`time_share`, database.py).
FIRST_BATCH_ROWS = 200


def batch_sizes(batch_size):
    """The size of each batch in turn: a small first (FIRST_BATCH_ROWS), then `batch_size`."""
    yield min(batch_size, FIRST_BATCH_ROWS)
    while True:
        yield batch_size


@dataclass(frozen=True)
class Batch:
    encoded: bytes  # every row's encoding, joined by the separator
    count: int
    position: Optional[Position]  # after the last row; None when empty or read from a list
    more: bool = False  # with look_ahead: whether a row follows the batch


async def fetch_batch(
    execute: Execute,
    selection,
    row_sql,
    limit,
    after=None,
    separator=b"",
    look_ahead=False,
    until=None,
    **options,
):
    """The `limit` rows after `after` (and up to `until`), encoded and joined: one query, run
    with the `execute` options given. With `look_ahead`, the separator must be bytes that no
    row's encoding holds, since the extra row is cut off at the last one."""
    sql, params = batch_query(selection, row_sql, limit, after, separator, look_ahead, until)
    count, last_value, last_id, *parts = (await execute(sql, params, **options))[0]
    position = Position(value=last_value, id=last_id) if count else None
    encoded = separator.join(part for part in parts if part)
    more = count > limit
    if more:
        encoded = encoded.rsplit(separator, 1)[0]
    return Batch(encoded=encoded, count=min(count, limit), position=position, more=more)


async def iter_batches(execute: Execute, selection, row_sql, batch_size, separator=b"", parallel=1):
    """Every row, as Batches of up to `batch_size` rows, one query each (and one more that
    lists them first, for a search whose matches are listed). With `parallel` > 1, up to that
    many batch queries run at once (see ranged_batches), and the batches still come in order."""
    listed = selection.search is not None and selection.search.matches is not None
    if listed or selection.driving_filter is not None or selection.scan:
        batches = listed_batches(execute, selection, row_sql, batch_size, separator, parallel)
    elif parallel > 1 and (selection.search is None or not selection.search.uses_index):
        batches = ranged_batches(execute, selection, row_sql, batch_size, separator, parallel)
    else:
        # A search that walks the trigram index stays sequential: each of its queries pays a
        # fixed cost to build the set of matches, so it reads few, big batches (see
        # export.SEARCHED_BATCH_SIZE), where ranges of the organisation's index would be many.
        batches = sequential_batches(execute, selection, row_sql, batch_size, separator)
    async with contextlib.aclosing(batches):
        async for batch in batches:
            yield batch


async def sequential_batches(execute: Execute, selection, row_sql, batch_size, separator=b""):
    """Every row, one batch after another, each starting where the last one ended."""
    after = None
    for size in batch_sizes(batch_size):
        batch = await fetch_batch(
            execute, selection, row_sql, size, after, separator, time_share=size / batch_size
        )
        if batch.count:
            yield batch
        if batch.count < size:
            return
        after = batch.position


async def _ranges(execute: Execute, selection, batch_size):
    """`(after, until, size)` for consecutive ranges of `size` index entries (batch_sizes), in
    the sort's order, from the first row; the last range's `until` is None: it holds the rest."""
    after = None
    for size in batch_sizes(batch_size):
        found = await execute(*boundary_query(selection, size, after))
        if not found:
            yield after, None, size
            return
        until = Position(*found[0])
        yield after, until, size
        after = until


async def _fetch_range(
    execute: Execute, selection, row_sql, separator, after, until, size, time_share
):
    """The live rows of one range (after `after`, up to `until`), encoded and joined. A range
    holds `size` index entries, so one query of `size + 1` rows reads it whole; rows written
    into it since its boundaries were found may take it past that, and then it reads on."""
    encoded, count = [], 0
    while True:
        batch = await fetch_batch(
            execute,
            selection,
            row_sql,
            size + 1,
            after,
            separator,
            until=until,
            time_share=time_share,
        )
        if batch.count:
            encoded.append(batch.encoded)
            count += batch.count
        if batch.count <= size:
            return Batch(encoded=separator.join(encoded), count=count, position=None)
        after = batch.position


async def ranged_batches(
    execute: Execute, selection, row_sql, batch_size, separator=b"", parallel=2
):
    """Every row, as one Batch per range of `batch_size` index entries, with up to `parallel`
    batch queries under way at once and the batches handed on in order.

    A batch that starts where the last one ended cannot start before that one is done; so the
    boundaries come first, from a key-only walk of the index (queries.boundary_query), and each
    batch reads the rows between two of them. Ranges hold `batch_size` index entries, soft-
    deleted and filtered-out rows among them, so a batch may hold fewer rows. Boundaries come
    from the same keyset order as the rows, so a row is never in two ranges.
    """
    jobs = (
        _fetch_range(execute, selection, row_sql, separator, after, until, size, size / batch_size)
        async for after, until, size in _ranges(execute, selection, batch_size)
    )
    async for batch in in_order(jobs, parallel):
        if batch.count:
            yield batch


async def listed_batches(
    execute: Execute, selection, row_sql, batch_size, separator=b"", parallel=1
):
    """Every row of a selection whose search's matches are listed, whose driving filter
    keeps few rows, or that scans, as Batches: one query lists the organisation's matching
    rows in order, by rowid (about 7 bytes a row, held while the export runs); then each
    batch looks its rows up by rowid and encodes them, up to `parallel` batches at once.

    Why: walking the sort's index checks every entry of the organisation against the set of
    matches, which SQLite builds anew for every batch: for a common term that made an export
    less than half as fast, in rows/s, as the unsearched one (docs/benchmarks.md#search).
    Listing reads each match once. Each batch checks its rows again (organisation, live, flagged),
    so a row deleted since the list was taken is left out, and no other organisation's row
    can ever be written.
    """
    listed = (await execute(*match_list_query(selection)))[0][0]
    rowids = listed.split(",") if listed else []

    async def fetch(batch_rowids, time_share):
        sql, params = listed_batch_query(selection, row_sql, batch_rowids, separator)
        count, encoded = (await execute(sql, params, time_share=time_share))[0]
        return Batch(encoded=encoded, count=count, position=None)

    async def jobs():
        start = 0
        for size in batch_sizes(batch_size):
            if start >= len(rowids):
                return
            chosen = rowids[start : start + size]
            yield fetch("[" + ",".join(chosen) + "]", size / batch_size)
            start += size

    async for batch in in_order(jobs(), parallel):
        if batch.count:
            yield batch
