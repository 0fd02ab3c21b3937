"""One export, from the first byte to the last: what every surface that writes a whole export
(the HTTP streams and the `export` command) runs, so they write the same bytes."""

import asyncio
import contextlib
from dataclasses import dataclass, replace
from typing import AsyncIterator

from .batches import Execute, iter_batches
from .compression import IDENTITY, compressed, off_the_loop
from .database import threaded_execute
from .formats import Format
from .functions import register_functions
from .plans import plan_selection, value_rules_of
from .selection import Selection

# A search through the trigram index whose matches are too many to list costs each batch query
# a fixed time (SQLite builds the set of matching rowids for every statement), so its export
# reads bigger batches: 10,000 rows a batch export a common term more than twice as fast as
# 2,000 (docs/benchmarks.md#search).
SEARCHED_BATCH_SIZE = 10_000


@dataclass(frozen=True)
class ExportPlan:
    selection: Selection
    format: Format
    batch_size: int
    escape_formulas: bool = True
    bom: bool = False
    parallel_batches: int = 1  # batch queries under way at once (see batches.iter_batches)


class Tally:
    """What an export has handed on so far: its rows (`on_batch=tally.batch`) and its bytes
    before any content coding (`tally.counted(chunks)`)."""

    def __init__(self):
        self.rows = 0
        self.bytes = 0

    def batch(self, count):
        self.rows += count

    async def counted(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                self.bytes += len(chunk)
                yield chunk


async def export_chunks(execute: Execute, plan: ExportPlan, on_batch=None) -> AsyncIterator[bytes]:
    """The export as chunks of bytes: the first holds the head and the first batch, then one
    chunk per batch, and the last closes the document. Nothing is held beyond one batch.
    `on_batch(row_count)` is called for each batch, for progress bars. A search exports
    fastest with its plan made for exports (see write_export)."""
    fmt = plan.format
    columns = plan.selection.columns
    document = fmt.document(columns, plan.bom)
    # A container's work on each batch (deflating, parsing) runs off the event loop, on the
    # thread that compresses; text is only joined.
    step = off_the_loop if fmt.compressed else _at_once
    rules = await value_rules_of(execute, plan.selection.table)
    row_sql = fmt.row_sql(plan.escape_formulas, columns, rules)
    batch_size = plan.batch_size
    search = plan.selection.search
    if search is not None and search.uses_index and search.matches is None:
        batch_size = max(batch_size, SEARCHED_BATCH_SIZE)
    batches = iter_batches(
        execute, plan.selection, row_sql, batch_size, fmt.separator, plan.parallel_batches
    )
    head = await step(document.begin)
    # Closed as soon as the export stops, not when collected: that cancels the batch queries
    # under way at once.
    async with contextlib.aclosing(batches):
        async for batch in batches:
            if on_batch is not None:
                on_batch(batch.count)
            chunk = head + await step(document.add, batch.encoded, batch.count)
            head = b""
            if chunk:  # a deflater may keep a small batch's bytes for later
                yield chunk
    yield head + await step(document.end)


async def _at_once(function, *args):
    return function(*args)


def write_export(
    path, plan: ExportPlan, out, most_matches, scan_rows, on_batch=None, encoding=IDENTITY
):
    """The whole export from the SQLite file at `path` into the binary file `out`: the same
    chunks, from the same code, as the HTTP endpoint sends, planned for an export as the
    endpoint plans it (listing up to `most_matches`, scanning tables of up to `scan_rows`:
    Limits.export_matches and scan_rows), and compressed with `encoding` (compression.py)."""

    async def run():
        threads = plan.parallel_batches
        async with threaded_execute(path, threads, register_functions) as execute:
            selection = await plan_selection(execute, plan.selection, most_matches, scan_rows)
            plan_searched = replace(plan, selection=selection)
            chunks = compressed(export_chunks(execute, plan_searched, on_batch), encoding)
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    out.write(chunk)

    asyncio.run(run())
