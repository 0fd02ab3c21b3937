"""The one writer of production's sellers into the mirror: typed records (lists in `COLUMNS`
order, from any reader) upserted by `id`, in bulk, in one transaction.

All or nothing: an error from the records (a bad value, a lost connection) or from SQLite
rolls the whole run back, so the mirror and its state stay exactly as they were.

A first load into an empty table inserts straight into it, and a new table gets its indexes
after its rows (built once, not row by row): the keyset index in the same transaction, so that
the rows can be exported as soon as they commit, and the sort and search indexes in a second
one (they take longer than the rows: docs/benchmarks.md#sync). A later load goes through a
temporary table, so that set-wise statements tell inserted, updated and unchanged rows apart
(and, for a full read, remove what production no longer has) with no SELECT per row.
"""

import time
from dataclasses import dataclass, field

from ..engine.schema import (
    ID_TYPES,
    TIMESTAMP_COLUMNS,
    ensure_id_type,
    ensure_table,
    quote_identifier,
)
from . import state
from .records import COLUMNS, RecordError
from .timestamps import CANONICAL_GLOB, canonical

INCOMING = "seller_export_incoming"
# The id index of a big load is written in random order: with SQLite's default 2 MB of page
# cache each insert would read and write pages of it from the file.
LOAD_CACHE_KIB = 256 * 1024


@dataclass
class WriteSummary:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    rewritten: int = 0  # rows written before the timestamp rule whose timestamps were rewritten
    retyped: str = ""  # the id type an existing mirror was rebuilt with (see schema.rebuild_table)
    indexes_built: list = field(default_factory=list)
    index_seconds: float = 0.0

    def __str__(self):
        parts = [f"{self.inserted:,} inserted", f"{self.updated:,} updated"]
        parts.append(f"{self.unchanged:,} unchanged")
        if self.removed:
            parts.append(f"{self.removed:,} removed")
        if self.rewritten:
            parts.append(f"timestamps of {self.rewritten:,} older rows rewritten as UTC")
        if self.retyped:
            parts.append(f"ids now stored as {self.retyped}, so ties sort as production's")
        if self.indexes_built:
            parts.append(f"sort and search indexes built in {self.index_seconds:.1f} s")
        return ", ".join(parts)


def write_records(db, table, records, *, remove_missing=False, state_after=None, ids=None):
    """Upsert `records` into `table` (created, with its indexes, when missing) in one
    transaction, and return a WriteSummary. `remove_missing` also deletes the rows whose id
    no record has (a full read of production). `state_after()`, called once the records are
    all read, gives the state fields to store with them (a sync's high-water mark). `ids`, a
    key of schema.ID_TYPES, is the type production gives its ids (a sync knows it): a mirror
    whose ids are declared otherwise is rebuilt with that type first; None keeps the mirror's
    (text for a new one)."""
    quoted = quote_identifier(table)
    conn = db.conn
    conn.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
    with db.atomic():
        created = not db[table].exists()
        ensure_table(db, table, indexes=None if created else "all", ids=ids or "text")
        retyped = ""
        if ids is not None and ensure_id_type(db, table, ids):
            retyped = f"{ID_TYPES[ids]} values"
        empty = conn.execute(f"SELECT 1 FROM {quoted} LIMIT 1").fetchone() is None
        if empty:
            summary = _load_empty(conn, quoted, records)
        else:
            summary = merge(conn, table, records, remove_missing)
        summary.retyped = retyped
        if created:
            ensure_table(db, table, indexes="keyset")
        # A table that was empty holds only what this writer just wrote, all in the rule's form:
        # the scan for older forms would read every row for nothing (0.65-0.8 s a million).
        if not empty and state.read(conn, table)["timestamps"] != state.TIMESTAMPS_CANONICAL:
            summary.rewritten = _rewrite_old_timestamps(conn, quoted)
        state.write(conn, table, timestamps=state.TIMESTAMPS_CANONICAL, **(state_after or dict)())
    if created:
        started = time.monotonic()
        with db.atomic():
            summary.indexes_built = ensure_table(db, table)
        summary.index_seconds = time.monotonic() - started
    return summary


def counted(records, update, every=10_000):
    """`records` as they are, calling `update(n)` each `every` records and at the end (a
    progress bar's)."""
    count = 0
    for count, record in enumerate(records, start=1):
        if count % every == 0:
            update(every)
        yield record
    update(count % every)


_COLUMN_LIST = ", ".join(COLUMNS)
_PLACEHOLDERS = ", ".join("?" * len(COLUMNS))


def _load_empty(conn, quoted, records):
    # A dump may hold an id twice: the later record wins, as in a merge.
    conn.executemany(
        f"INSERT INTO {quoted} ({_COLUMN_LIST}) VALUES ({_PLACEHOLDERS}) "
        f"ON CONFLICT (id) DO UPDATE SET "
        + ", ".join(f"{column} = excluded.{column}" for column in COLUMNS[1:]),
        records,
    )
    (count,) = conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()
    return WriteSummary(inserted=count)


def merge(conn, table, records, remove_missing=False):
    """Upsert `records` into the non-empty `table` set-wise, in the caller's transaction:
    a statement per kind of change, not per row (a row-by-row write through the search
    index's trigger makes FTS5 flush its pending terms at every statement)."""
    quoted = quote_identifier(table)
    incoming, changed = f"temp.{INCOMING}", f"temp.{INCOMING}_changed"
    for name in (incoming, changed):
        conn.execute(f"DROP TABLE IF EXISTS {name}")
    # The same declared types as the mirror's, so values compare as they will be stored.
    declared = dict(conn.execute("SELECT name, type FROM pragma_table_info(?)", [table]))
    conn.execute(
        f"CREATE TABLE {incoming} ("
        + ", ".join(f"{c} {declared[c]}" for c in COLUMNS)
        + ", PRIMARY KEY (id))"
    )
    conn.executemany(
        f"INSERT OR REPLACE INTO {incoming} ({_COLUMN_LIST}) VALUES ({_PLACEHOLDERS})", records
    )
    (received,) = conn.execute(f"SELECT count(*) FROM {incoming}").fetchone()
    removed = 0
    if remove_missing:
        removed = conn.execute(
            f"DELETE FROM {quoted} WHERE id NOT IN (SELECT id FROM {incoming})"
        ).rowcount
    differs = " OR ".join(f"{quoted}.{c} IS NOT incoming.{c}" for c in COLUMNS[1:])
    conn.execute(
        f"CREATE TABLE {changed} AS SELECT incoming.* FROM {incoming} AS incoming "
        f"JOIN {quoted} ON {quoted}.id = incoming.id WHERE {differs}"
    )
    # Column by column, and only the columns some row changes, so that SQLite rewrites only
    # the indexes (and search entries) of those: a sync mostly changes counts and times.
    updated, *changes = conn.execute(
        "SELECT count(*), "
        + ", ".join(f"sum({quoted}.{c} IS NOT changed.{c})" for c in COLUMNS[1:])
        + f" FROM {changed} AS changed JOIN {quoted} ON {quoted}.id = changed.id"
    ).fetchone()
    for column in (c for c, count in zip(COLUMNS[1:], changes, strict=True) if count):
        conn.execute(
            f"UPDATE {quoted} SET {column} = changed.{column} FROM {changed} AS changed "
            f"WHERE {quoted}.id = changed.id AND {quoted}.{column} IS NOT changed.{column}"
        )
    inserted = conn.execute(
        f"INSERT INTO {quoted} ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM {incoming} "
        f"WHERE id NOT IN (SELECT id FROM {quoted})"
    ).rowcount
    for name in (incoming, changed):
        conn.execute(f"DROP TABLE {name}")
    return WriteSummary(
        inserted=inserted, updated=updated, unchanged=received - inserted - updated, removed=removed
    )


REWRITE_BATCH = 10_000


def _rewrite_old_timestamps(conn, quoted):
    """Rows written before the timestamp rule, in the rule's form; once per mirror. In
    batches by rowid, so that memory stays flat on a big mirror."""
    not_canonical = " OR ".join(
        f"({column} IS NOT NULL AND {column} NOT GLOB '{CANONICAL_GLOB}')"
        for column in TIMESTAMP_COLUMNS
    )
    select = (
        f"SELECT rowid, id, {', '.join(TIMESTAMP_COLUMNS)} FROM {quoted} "
        f"WHERE rowid > ? AND ({not_canonical}) ORDER BY rowid LIMIT {REWRITE_BATCH}"
    )
    update = (
        f"UPDATE {quoted} SET {', '.join(c + ' = ?' for c in TIMESTAMP_COLUMNS)} WHERE rowid = ?"
    )
    rewritten, after = 0, 0
    while rows := conn.execute(select, (after,)).fetchall():
        batch = []
        for rowid, id_, *values in rows:
            try:
                batch.append([v if v is None else canonical(v) for v in values] + [rowid])
            except ValueError as error:
                raise RecordError(
                    f"id {id_!r}",
                    f"a timestamp written before this version is not one ({error}); "
                    "correct or delete that row",
                ) from None
        conn.executemany(update, batch)
        rewritten += len(batch)
        after = rows[-1][0]
    return rewritten
