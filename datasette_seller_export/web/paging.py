"""Pages of sellers for the JSON API and the browse page, on the export's keyset engine, in
both directions."""

import functools
from dataclasses import dataclass, replace
from typing import Optional

from datasette.database import QueryInterrupted

from ..engine.batches import fetch_batch
from ..engine.formats import FORMATS
from ..engine.plans import walk_or_scan
from ..engine.selection import Selection
from .facets import facet_pairs
from .params import query_pairs, url_with_query
from .tokens import FIRST_PAGE, PageStart, encode_token

KEYS_ONLY = "NULL"  # a walk that encodes nothing: only its count and last key are wanted
# Between a page's rows while it is read: JSON rows never hold a raw line break (json_quote
# escapes it), so the look-ahead row can be cut off at the last one.
ROW_BREAK = b"\n"


@dataclass(frozen=True)
class Page:
    rows_json: bytes  # the page's rows as JSON objects, comma-separated (no brackets)
    count: int  # rows on the page
    offset: int  # rows before it
    next: Optional[PageStart]  # None on the last page
    prev: Optional[PageStart]  # None on the first page
    selection: Selection  # as read: scanning, if walking would have cost more


async def _fetch(execute, selection, limits, *batch):
    """fetch_batch, trying the cheap way first, and the selection as read.

    A search's index walk starts by building the set of every row in the table that the
    index matches (for a common term, tens of thousands of rowids: docs/benchmarks.md#search);
    checking the organisation's rows in order by their names fills a page of a term that
    common long before that. For a term this organisation rarely holds, the check would read
    on through the organisation: it gets `name_check_budget` (Limits) and, past it, the index
    walk runs. A filter no index serves is checked on the walk, or by a scan past a budget
    (plans.walk_or_scan). Either way the page is the same."""
    search = selection.search
    if search is not None and search.uses_index and search.matches is None:
        by_name = replace(selection, search=replace(search, fts_table=None))
        budgeted = functools.partial(execute, budget=limits.name_check_budget)
        try:
            return await fetch_batch(budgeted, by_name, *batch), selection
        except QueryInterrupted:
            pass

    async def read(execute, selection):
        return await fetch_batch(execute, selection, *batch)

    return await walk_or_scan(execute, selection, limits.scan_rows, read)


async def _resolve_backwards(execute, selection, limits, size, start: PageStart):
    """The page that ends with `start.before`, as a start after some row: walk the order
    backwards from that row for `size` keys (only keys, nothing encoded). Fewer than that:
    it is the first page. Returns it and the selection as read."""
    backwards = replace(selection, sort=selection.sort.reversed())
    keys, read = await _fetch(execute, backwards, limits, KEYS_ONLY, size, start.before)
    selection = replace(selection, scan=read.scan)
    if keys.count < size:
        return FIRST_PAGE, selection
    return PageStart(after=keys.position, offset=start.offset), selection


async def fetch_page(resolved, encode=True):
    """The resolved request's page: `size` rows from `start`, in one query that reads one row
    more, so that the last page says it is the last rather than pointing to an empty one.
    With `encode=False` (for HEAD) the rows are walked but not encoded."""
    execute, selection, size, start = (
        resolved.execute,
        resolved.selection,
        resolved.size,
        resolved.start,
    )
    limits = resolved.config.limits
    if start.before is not None:
        start, selection = await _resolve_backwards(execute, selection, limits, size, start)
    row_sql = FORMATS["json"].row_sql(columns=selection.columns) if encode else KEYS_ONLY
    batch, selection = await _fetch(
        execute, selection, limits, row_sql, size, start.after, ROW_BREAK, True
    )
    next_start = None
    if batch.more:
        next_start = PageStart(after=batch.position, offset=start.offset + batch.count)
    prev_start = None
    if start.after is not None:
        prev_start = PageStart(before=start.after, offset=max(start.offset - size, 0))
    return Page(
        rows_json=batch.encoded.replace(ROW_BREAK, b","),
        count=batch.count,
        offset=start.offset,
        next=next_start,
        prev=prev_start,
        selection=selection,
    )


def page_links(datasette, resolved, page, path):
    """`{"next": (token, path), "prev": (token, path)}`, with None at either end; the paths
    carry the criteria and the page size on."""
    carried = query_pairs(resolved.criteria) + [("_size", str(resolved.size))]
    carried += facet_pairs(resolved.values)
    links = {}
    for rel, start in (("next", page.next), ("prev", page.prev)):
        links[rel] = (None, None)
        if start is not None:
            token = encode_token(resolved.token_key, resolved.selection, start)
            links[rel] = (token, url_with_query(datasette, path, carried + [("_next", token)]))
    return links
