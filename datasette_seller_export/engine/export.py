"""One export, from the first byte to the last: what every surface that writes a whole export
(the HTTP streams and the `export` command) runs, so they write the same bytes."""

import asyncio
import contextlib
import os
import re
import tempfile
import urllib.parse
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import AsyncIterator

from .compression import IDENTITY, compressed
from .database import threaded_execute
from .encoders import UTF8_BOM, Format
from .functions import register_functions
from .keyset import (
    DEFAULT_SORT,
    LISTED_MATCHES,
    Execute,
    Selection,
    iter_batches,
    with_search_plan,
)

# A search through the trigram index whose matches are too many to list costs each batch query
# a fixed ~40 ms (SQLite builds the set of matching rowids for every statement), so its export
# reads bigger batches: on the 1,000,000-row demo, 10,000 rows a batch export a common term 2.4
# times as fast as 2,000.
SEARCHED_BATCH_SIZE = 10_000


@dataclass(frozen=True)
class ExportPlan:
    selection: Selection
    format: Format
    batch_size: int
    escape_formulas: bool = True
    bom: bool = False
    parallel_batches: int = 1  # batch queries under way at once (see keyset.iter_batches)


async def export_chunks(execute: Execute, plan: ExportPlan, on_batch=None) -> AsyncIterator[bytes]:
    """The export as chunks of bytes: the first holds the head and the first batch, then one
    chunk per batch, and the last closes the document. Nothing is held beyond one batch.
    `on_batch(row_count)` is called for each batch, for progress bars. A search exports
    fastest with its plan made for exports: `with_search_plan(..., LISTED_MATCHES)`."""
    fmt = plan.format
    head = (UTF8_BOM if plan.bom else b"") + fmt.prefix
    row_sql = fmt.row_sql(plan.escape_formulas)
    first = True
    batch_size = plan.batch_size
    search = plan.selection.search
    if search is not None and search.uses_index and search.matches is None:
        batch_size = max(batch_size, SEARCHED_BATCH_SIZE)
    batches = iter_batches(
        execute, plan.selection, row_sql, batch_size, fmt.separator, plan.parallel_batches
    )
    # Closed as soon as the export stops, not when collected: that cancels the batch queries
    # under way at once.
    async with contextlib.aclosing(batches):
        async for batch in batches:
            if on_batch is not None:
                on_batch(batch.count)
            yield head + batch.encoded if first else fmt.separator + batch.encoded
            first = False
    yield head + fmt.suffix if first else fmt.suffix


def write_export(path, plan: ExportPlan, out, on_batch=None, encoding=IDENTITY):
    """The whole export from the SQLite file at `path` into the binary file `out`: the same
    chunks, from the same code, as the HTTP endpoint sends, with the search planned for an
    export as the endpoint plans it, and compressed with `encoding` (see compression.py)."""

    async def run():
        threads = plan.parallel_batches
        async with threaded_execute(path, threads, register_functions) as execute:
            selection = await with_search_plan(execute, plan.selection, LISTED_MATCHES)
            plan_searched = replace(plan, selection=selection)
            chunks = compressed(export_chunks(execute, plan_searched, on_batch), encoding)
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    out.write(chunk)

    asyncio.run(run())


@contextlib.contextmanager
def atomic_file(path):
    """A binary file that appears at `path` only once it is complete: a failed export leaves
    no partial file behind (nor harms one already there)."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".sellers-export-")
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


_UNSAFE_FILENAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]")
SEARCH_IN_FILENAME = 40  # characters of a search term a file name keeps


def download_name(plan: ExportPlan) -> str:
    """`sellers-<org>[-flagged|-unflagged][-search-<term>][-by-<column>[-desc]][-excel]-<date>.<ext>`:
    what the file holds, so that two different downloads never share a name. The date is
    today's, in UTC."""
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    selection = plan.selection
    parts = ["sellers", selection.org_id]
    if selection.flagged is not None:
        parts.append("flagged" if selection.flagged else "unflagged")
    if selection.search is not None:
        parts += ["search", selection.search.term[:SEARCH_IN_FILENAME]]
    if selection.sort != DEFAULT_SORT:
        parts += ["by", selection.sort.column] + (["desc"] if selection.sort.descending else [])
    if plan.bom:
        parts.append("excel")
    return "-".join(parts + [date]) + f".{plan.format.name}"


def content_disposition(plan: ExportPlan) -> str:
    """`attachment` with a filename safe in any header and, when the name needed changing to
    be safe, its exact form in RFC 6266's `filename*`."""
    exact = download_name(plan)
    safe = _UNSAFE_FILENAME_CHARACTERS.sub("_", exact)
    value = f'attachment; filename="{safe}"'
    if safe != exact:
        value += "; filename*=UTF-8''" + urllib.parse.quote(exact, safe="")
    return value
