"""`datasette seller-export sync`: the mirror brought up to date from PostgreSQL in one
transaction.

The first run reads every row. Later runs read the rows whose updated_at is at or after the
last run's high-water mark less an overlap, for transactions that commit after the run that
would have seen them (their updated_at is older than their commit). Soft deletes arrive as
updated rows; `full` reads everything and also removes the rows production no longer has.
The mirror is in WAL mode, so readers keep reading the state before the run until it commits.
"""

import contextlib
import os
import time
import types
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlite_utils

from . import state
from .postgres import SourceError, open_source
from .timestamps import format_utc
from .writer import WriteSummary, counted, write_records

DEFAULT_OVERLAP_SECONDS = 300
# How long a run waits for another writer of the mirror (another sync, an import) to finish.
BUSY_TIMEOUT_MS = 30_000


@dataclass
class SyncRun:
    summary: WriteSummary
    seconds: float
    full_read: bool

    def __str__(self):
        s = self.summary
        read = "every row read" if self.full_read else "changed rows read"
        line = (
            f"+{s.inserted:,} ~{s.updated:,} -{s.removed:,} in {self.seconds:.1f} s "
            f"({s.unchanged:,} unchanged; {read})"
        )
        if s.rewritten:
            line += f"; timestamps of {s.rewritten:,} older rows rewritten as UTC"
        if s.retyped:
            line += f"; ids now stored as {s.retyped}, so ties sort as production's"
        if s.indexes_built:
            line += f"; sort and search indexes built in {s.index_seconds:.1f} s"
        return line


def sync(db_path, url, **options):
    """One run (see _sync for the options). A first run that fails removes the file it
    created, so that no empty mirror is left to look like one."""
    created = not os.path.exists(db_path)
    try:
        return _sync(db_path, url, **options)
    except BaseException:
        if created:
            remove_new_mirror(db_path)
        raise


def remove_new_mirror(db_path):
    """Remove a mirror a failed first run created, so that no empty mirror looks like one."""
    for path in (db_path, db_path + "-wal", db_path + "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _sync(
    db_path,
    url,
    *,
    source_table="sellers",
    table="sellers",
    overlap_seconds=DEFAULT_OVERLAP_SECONDS,
    full=False,
    ignore_unknown_columns=False,
    progress_bar=None,
):
    """`progress_bar(length)` gives a context manager with `update(n)` (click's)."""
    started = time.monotonic()
    # Closing folds the WAL back into the database, when no reader holds it.
    with contextlib.closing(sqlite_utils.Database(db_path)) as db:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.enable_wal()
        previous = state.read(db.conn, table)
        if previous["replication_slot"]:
            raise SourceError(
                f"{table} follows production through the slot {previous['replication_slot']}; "
                "a watermark sync could undo changes the follower has applied: use sync "
                "--follow, or run sync --drop-slot first to stop following"
            )
        with open_source(url, source_table, ignore_unknown_columns) as source:
            incremental = not full and previous["high_water_mark"] is not None
            if incremental and previous["source"] != source.description:
                raise SourceError(
                    f"the last sync of {table} read {previous['source']}, this one would read "
                    f"{source.description}: run it once with --full"
                )
            since = (previous["high_water_mark"], overlap_seconds) if incremental else None
            mark = source.high_water_mark(since) or previous["high_water_mark"]
            summary = copy_source(
                db, table, source, since, progress_bar, remove_missing=full, high_water_mark=mark
            )
    return SyncRun(summary, time.monotonic() - started, full_read=not incremental)


def copy_source(db, table, source, since, progress_bar, remove_missing, **state_fields):
    """The rows `source.records(since)` reads, written into `table` in one transaction with
    the state: where they came from, when, and `state_fields`."""
    with (progress_bar or no_bar)(source.count(since)) as bar:
        return write_records(
            db,
            table,
            counted(source.records(since), bar.update),
            remove_missing=remove_missing,
            ids=source.id_type,
            state_after=lambda: {
                "source": source.description,
                "synced_at": format_utc(datetime.now(timezone.utc)),
                **state_fields,
            },
        )


def no_bar(length):
    return contextlib.nullcontext(types.SimpleNamespace(update=lambda count: None))
