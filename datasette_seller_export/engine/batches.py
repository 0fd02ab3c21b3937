"""The keyset engine's batch readers: every row of a Selection, as Batches of encoded rows,
one query each (see queries.py for the SQL and why it is shaped so).

They drive any async `execute(sql, params, **options)` that returns rows as tuples:
Datasette's database layer over HTTP, or threads with a connection each in the command line
(see database.py).
"""

import contextlib
import functools
from dataclasses import dataclass, replace
from typing import Awaitable, Callable, Optional, Sequence

from datasette.database import QueryInterrupted

from .pipeline import in_order
from .queries import (
    RANGE_FACET_VALUES,
    batch_query,
    boundary_query,
    count_query,
    facet_query,
    filter_count_query,
    listed_batch_query,
    match_list_query,
    matches_query,
    range_facet_query,
    range_facet_values_query,
    table_rows_query,
    timestamps_form_queries,
)
from .schema import SORTABLE_COLUMNS, TIMESTAMPS_CANONICAL, sort_index_name
from .selection import Position, Selection

Execute = Callable[[str, dict], Awaitable[Sequence[Sequence]]]

# Walking an organisation's index reads its rows in the index's order, each a read at random
# (about 2.6 µs a row on the 1,000,000-row demo); a scan reads the whole table in storage
# order (0.25 µs a row), every organisation's rows with it (docs/benchmarks.md#scans). So a
# scan costs less than a walk of the whole organisation when that holds a tenth of the table.
SCAN_SHARE = 10
# What a walk spends on each row it checks, in SQLite VM instructions (6 on that demo): a
# page's walk may spend what a scan would cost before the scan runs instead (paging._fetch).
WALK_INSTRUCTIONS_PER_ROW = 6


async def _scannable_rows(execute: Execute, selection: Selection, scan_rows: int) -> int:
    """About how many rows a scan of the selection's table reads (its largest rowid: one
    seek), when that is at most `scan_rows` (config.Limits: a scan must end well within the
    time limit); otherwise 0."""
    if not scan_rows:
        return 0
    table_rows = (await execute(*table_rows_query(selection.table)))[0][0]
    return table_rows if table_rows <= scan_rows else 0


async def _holds_a_share(execute: Execute, selection: Selection, table_rows: int) -> bool:
    """Whether the organisation holds at least a SCAN_SHARE-th of `table_rows` live rows:
    counted on an index, at most that many."""
    share = -(-table_rows // SCAN_SHARE)
    organisation = Selection(selection.table, selection.org_id)
    return (await execute(*count_query(organisation, share)))[0][0] >= share


async def rows_to_scan(execute: Execute, selection: Selection, scan_rows: int) -> int:
    """About how many rows a scan of the selection's table reads, when it may scan one that
    big (_scannable_rows) and the organisation holds at least a SCAN_SHARE-th of them, so that
    the scan costs less than a walk of the whole organisation; otherwise 0."""
    table_rows = await _scannable_rows(execute, selection, scan_rows)
    if table_rows and await _holds_a_share(execute, selection, table_rows):
        return table_rows
    return 0


async def with_search_plan(execute: Execute, selection: Selection, most: int) -> Selection:
    """The selection with the rowids its search matches in the whole table, when the index
    matches at most `most` (config.Limits: fewer for a page than for a whole export): one
    query that reads at most `most` + 1.

    SQLite builds the set of matching rowids once per statement, then the index walk checks
    each of the organisation's entries against it: a fixed cost per query whatever the term
    (docs/benchmarks.md#search), most of it walking past entries that do not match when the
    term is rare. With the matches listed, a query looks those rows up by rowid instead, and
    sorts them.
    """
    search = selection.search
    if search is None or not search.uses_index:
        return selection
    count, matches = (await execute(*matches_query(search, most)))[0]
    if count > most:
        return selection
    return replace(selection, search=replace(search, matches=matches))


async def with_filter_plan(execute: Execute, selection: Selection, most: int) -> Selection:
    """The selection read through the index of the filter that keeps fewest of the
    organisation's rows, when one keeps at most `most` (config.Limits, as for a search);
    otherwise as it is, walking the sort's index and checking the filters on the way.

    Walking the sort's index reads rows in order and stops when a page is full: cheap when
    the filters keep many rows, the whole organisation when they keep few. A filter's own
    index reads only the rows it keeps, which are then sorted: cheap when they are few. Each
    candidate is counted on its index alone, up to `most` + 1 entries."""
    candidates = [
        index
        for index, flt in enumerate(selection.filters)
        if flt.indexed and flt.column != selection.sort.column
    ]
    if not candidates:
        return selection
    names = [sort_index_name(selection.table, selection.filters[i].column) for i in candidates]
    placeholders = ", ".join(f":name_{n}" for n in range(len(names)))
    present = {
        row[0]
        for row in await execute(
            f"SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ({placeholders})",
            {f"name_{n}": name for n, name in enumerate(names)},
        )
    }
    best = None
    for index, name in zip(candidates, names, strict=True):
        if name not in present:
            continue
        count = (await execute(*filter_count_query(selection, index, most)))[0][0]
        if count <= most and (best is None or count < best[0]):
            best = (count, index)
    return selection if best is None else replace(selection, driving_filter=best[1])


async def with_scan_plan(execute: Execute, selection: Selection, most: int, scan_rows: int):
    """The selection read by a scan of the table, when its walk would check a filter no
    index serves on each of the organisation's rows, a scan costs less (rows_to_scan), and
    the scan finds at most `most` rows (counted by a scan: a whole export lists them, see
    listed_batches); otherwise as it is."""
    if not selection.walks_past_rows or not await rows_to_scan(execute, selection, scan_rows):
        return selection
    scanned = replace(selection, scan=True)
    try:
        count = (await execute(*count_query(scanned, most + 1)))[0][0]
    except QueryInterrupted:  # past the time limit: this host scans slower than measured
        return selection
    return scanned if count <= most else selection


async def plan_selection(
    execute: Execute, selection: Selection, most: int, scan_rows: int = 0
) -> Selection:
    """The selection with its plan: the search's listed matches when few (with_search_plan),
    else the driving filter when one keeps few rows (with_filter_plan), else, with
    `scan_rows` (for a whole export), a scan of the table when that costs less than the walk
    (with_scan_plan)."""
    selection = await with_search_plan(execute, selection, most)
    if selection.search is not None and selection.search.matches is not None:
        return selection  # looked up by rowid: no index walk to choose
    selection = await with_filter_plan(execute, selection, most)
    return await with_scan_plan(execute, selection, most, scan_rows)


async def walk_or_scan(execute: Execute, selection: Selection, scan_rows: int, read):
    """`await read(execute, selection)` for a read of the first rows of a selection (a page,
    a bounded count), and the selection as read, scanning or not.

    A walk of the sort's index stops as soon as it has read enough rows: cheap when the
    filters keep many, the whole organisation at random when they keep few. So the walk may
    spend what a scan of the table would cost, and past that budget, if the organisation is
    big enough for a scan to cost less than its walk (rows_to_scan), the scan runs: at worst
    about twice the cheaper of the two. The organisation is counted only then, since a walk
    that ends within its budget needs no count."""
    table_rows = 0
    if selection.walks_past_rows:
        table_rows = await _scannable_rows(execute, selection, scan_rows)
    if table_rows:
        budget = table_rows // SCAN_SHARE * WALK_INSTRUCTIONS_PER_ROW
        try:
            return await read(functools.partial(execute, budget=budget), selection), selection
        except QueryInterrupted:
            if await _holds_a_share(execute, selection, table_rows):
                selection = replace(selection, scan=True)
    return await read(execute, selection), selection


async def _plan_facet(execute: Execute, selection: Selection, column: str, scan_rows: int):
    """The selection as a facet on `column` reads it: by a scan of the table when the facet
    would otherwise read each of the organisation's rows at random (the column has no index,
    or the flagged filter or a filter no index serves is checked on every row) and a scan
    costs less (rows_to_scan). A facet on an indexed column alone counts on its index; one
    within a filter an index serves reads that filter's rows (see queries.facet_query)."""
    planned = selection.driving_filter is not None or selection.scan
    narrowed = any(flt.indexed for flt in selection.filters)
    if planned or narrowed or selection.search is not None:
        return selection
    if _only_the_organisation(selection) and column in SORTABLE_COLUMNS:
        return selection
    if not await rows_to_scan(execute, selection, scan_rows):
        return selection
    return replace(selection, scan=True)


def _only_the_organisation(selection: Selection):
    return selection.flagged is None and not selection.filters and selection.search is None


async def _timestamps_are_canonical(execute: Execute, table: str):
    exists, form = timestamps_form_queries(table)
    if not await execute(*exists):
        return False
    rows = await execute(*form)
    return bool(rows) and rows[0][0] == TIMESTAMPS_CANONICAL


async def planned_facet_query(
    execute: Execute, selection: Selection, column: str, size: int, by_day: bool, scan_rows: int
):
    """SQL and parameters for a facet (queries.facet_query), planned: a facet of the
    organisation alone on an indexed column counts its values' ranges on the index
    (queries.range_facet_query) when they are few enough, and by day when the mirror's
    timestamps are canonical; any other reads the rows as _plan_facet says."""
    alone = selection.driving_filter is None and not selection.scan
    if alone and column in SORTABLE_COLUMNS and _only_the_organisation(selection):
        ranges = not by_day or await _timestamps_are_canonical(execute, selection.table)
        if ranges:
            found = (await execute(*range_facet_values_query(selection, column, by_day)))[0][0]
            if found <= RANGE_FACET_VALUES:
                return range_facet_query(selection, column, size, by_day)
    read_by = await _plan_facet(execute, selection, column, scan_rows)
    return facet_query(read_by, column, size, by_day)


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
):
    """The `limit` rows after `after` (and up to `until`), encoded and joined: one query. With
    `look_ahead`, the separator must be bytes that no row's encoding holds, since the extra
    row is cut off at the last one."""
    sql, params = batch_query(selection, row_sql, limit, after, separator, look_ahead, until)
    count, last_value, last_id, *parts = (await execute(sql, params))[0]
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
    while True:
        batch = await fetch_batch(execute, selection, row_sql, batch_size, after, separator)
        if batch.count:
            yield batch
        if batch.count < batch_size:
            return
        after = batch.position


async def _ranges(execute: Execute, selection, step):
    """`(after, until)` for consecutive ranges of `step` index entries, in the sort's order,
    from the first row; the last range's `until` is None: it holds the rest."""
    after = None
    while True:
        found = await execute(*boundary_query(selection, step, after))
        if not found:
            yield after, None
            return
        until = Position(*found[0])
        yield after, until
        after = until


async def _fetch_range(execute: Execute, selection, row_sql, separator, after, until, size):
    """The live rows of one range (after `after`, up to `until`), encoded and joined. A range
    holds `size` index entries, so one query of `size + 1` rows reads it whole; rows written
    into it since its boundaries were found may take it past that, and then it reads on."""
    encoded, count = [], 0
    while True:
        batch = await fetch_batch(
            execute, selection, row_sql, size + 1, after, separator, until=until
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
        _fetch_range(execute, selection, row_sql, separator, after, until, batch_size)
        async for after, until in _ranges(execute, selection, batch_size)
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

    async def fetch(batch_rowids):
        sql, params = listed_batch_query(selection, row_sql, batch_rowids, separator)
        count, encoded = (await execute(sql, params))[0]
        return Batch(encoded=encoded, count=count, position=None)

    async def jobs():
        for start in range(0, len(rowids), batch_size):
            yield fetch("[" + ",".join(rowids[start : start + batch_size]) + "]")

    async for batch in in_order(jobs(), parallel):
        if batch.count:
            yield batch
