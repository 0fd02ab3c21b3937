"""The plans of a read: which index, list or scan reads a Selection's rows, chosen by cheap
counts before the rows are read (search, filters, scans), and the facets' queries. The
batch readers (batches.py) then read the selection as planned.
"""

import functools
from dataclasses import replace

from datasette.database import QueryInterrupted

from .batches import Execute
from .queries import (
    RANGE_FACET_VALUES,
    count_query,
    facet_query,
    filter_count_query,
    matches_query,
    range_facet_query,
    range_facet_values_query,
    table_rows_query,
    timestamps_form_queries,
)
from .schema import (
    ANY_VALUES,
    DECLARED_TYPES_SQL,
    SORTABLE_COLUMNS,
    TABLE_SQL,
    TIMESTAMPS_CANONICAL,
    ValueRules,
    listed_strict,
    sort_index_name,
    strict_table_sql,
    value_rules,
)
from .selection import Selection

# Walking an organisation's index reads its rows in the index's order, each a read at random
# (about 2.6 µs a row on the 1,000,000-row demo); a scan reads the whole table in storage
# order (0.25 µs a row), every organisation's rows with it (docs/benchmarks.md#scans). So a
# scan costs less than a walk of the whole organisation when that holds a tenth of the table.
SCAN_SHARE = 10
# What a walk spends on each row it checks, in SQLite VM instructions (6 on that demo): a
# page's walk may spend what a scan would cost before the scan runs instead (walk_or_scan).
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
    # Nothing but the organisation: no filter, so no driving filter or scan either.
    if column in SORTABLE_COLUMNS and _only_the_organisation(selection):
        ranges = not by_day or await _timestamps_are_canonical(execute, selection.table)
        if ranges:
            found = (await execute(*range_facet_values_query(selection, column, by_day)))[0][0]
            if found <= RANGE_FACET_VALUES:
                return range_facet_query(selection, column, size, by_day)
    read_by = await _plan_facet(execute, selection, column, scan_rows)
    return facet_query(read_by, column, size, by_day)


async def value_rules_of(execute: Execute, table: str) -> ValueRules:
    """What `table` guarantees of its exported values (schema.value_rules), which an export's
    encoders then leave unchecked. Asked once per export: `init` may rebuild the table while
    Datasette runs."""
    if not listed_strict(await execute(strict_table_sql(table), {}), table):
        return ANY_VALUES
    declared = dict(await execute(DECLARED_TYPES_SQL, {"table": table}))
    (table_sql,) = (await execute(TABLE_SQL, {"table": table}))[0]
    return value_rules(True, declared, table_sql)
