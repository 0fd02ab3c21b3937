"""Production's transactions, as `pgoutput` sends them, applied to the mirror.

Three promises rest here:
- A SQLite transaction holds whole production transactions, in commit order, and never part
  of one, so that a reader sees each production transaction entirely or not at all. Several
  that have arrived together share one SQLite commit (the follower decides when: `commit`).
- The position after the last of them (`replication_lsn`, a Commit's end) is written in that
  same SQLite transaction. So the mirror's rows and its position cannot disagree, whatever kills
  the process, and a transaction that begins before the position is one the rows already hold:
  it is skipped, so that nothing is applied twice.
- Values are typed and checked as a sync's are (`records.typed`), so the two refuse the same
  values with the same messages, and a change of production's columns stops the follower
  before any change in the new shape is applied.

Changes are not written one by one: the applier keeps each id's last state (its row, or gone)
and writes them set-wise through the one writer's merge (writer.merge), which inserts new ids,
updates only the columns whose values differ and removes the gone. One statement per kind of
change, where one per row would make the search index's FTS5 table flush at every statement
(7,800 inserts a second row by row on a 100,000-row mirror with its indexes, against 30,600
set-wise: docs/benchmarks.md#following). The last state of each id is the transactions' result
whatever their order, so nothing a reader can see differs: it only ever sees whole SQLite
transactions.
"""

import time
from collections import Counter
from datetime import datetime, timezone

from ..engine.schema import quote_identifier
from . import state
from .pgoutput import (
    UNCHANGED,
    Begin,
    Commit,
    Delete,
    Insert,
    Relation,
    Truncate,
    Update,
    format_lsn,
)
from .postgres import SourceError, check_columns
from .records import COLUMNS, FROM_TEXT, RecordError, typed
from .timestamps import format_utc, from_postgres_utc
from .writer import merge

# PostgreSQL's integer types (int2, int4, int8): ids of these compare as numbers.
_INTEGER_OIDS = (21, 23, 20)
_TIMESTAMPTZ_OID = 1184
# How many ids' states are held before they are written (within the same SQLite transaction):
# memory stays bounded in a production transaction of millions of changes.
FLUSH_IDS = 20_000
GONE = None


def _stream_timestamp(column, value):
    try:
        return from_postgres_utc(value)
    except ValueError as error:
        raise ValueError(f"{column}: {error}") from None


class OutOfStep(SourceError):
    """The stream and the mirror disagree: only a fresh copy puts it right."""


class Applier:
    """Applies decoded messages to `conn` (a sqlite3 connection in autocommit mode, the
    follower's own), for the production table whose OID is `relation_id`."""

    def __init__(self, conn, table, relation_id, lsn, ignore_unknown_columns=False):
        self.conn, self.table, self.relation_id = conn, table, relation_id
        self.ignore_unknown_columns = ignore_unknown_columns
        self.lsn = lsn  # the position the committed mirror holds
        self.commit_time = None  # production's commit time of the last committed transaction
        self._pending_lsn, self._pending_time = lsn, None
        self.open = False  # a SQLite transaction is open
        self.in_transaction = False  # between a Begin and its Commit
        self._transaction = None  # the Begin of the production transaction being applied
        self._skipping = False
        self._layout = None
        self.pending = Counter()  # what the open SQLite transaction holds
        self.totals = Counter()  # what has been committed
        self.opened_at = None
        self._states = {}  # id: its last record, or GONE, not yet written
        self._truncated = False  # a TRUNCATE not yet written, before the states
        quoted = quote_identifier(table)
        self._select = f"SELECT {', '.join(COLUMNS)} FROM {quoted} WHERE id = ?"

    @property
    def at_boundary(self):
        """Whole transactions are waiting to be committed, and no part of another."""
        return self.open and not self.in_transaction and self.pending["transactions"] > 0

    def handle(self, message):
        kind = type(message)
        if kind is Begin:
            self._begin(message)
        elif kind is Commit:
            self._commit(message)
        elif kind is Relation:
            if message.relation_id == self.relation_id:
                self._layout = _Layout(message, self.table, self.ignore_unknown_columns, self)
        elif self._skipping or not self.in_transaction:
            return
        elif kind is Truncate:
            if self.relation_id in message.relation_ids:
                self._states.clear()
                self._truncated = True
                self.pending["changes"] += 1
        elif message.relation_id == self.relation_id:
            self._change(kind, message)

    def _begin(self, message):
        self._transaction = message
        self.in_transaction = True
        self._skipping = message.final_lsn < self.lsn
        if not self._skipping and not self.open:
            self.conn.execute("BEGIN IMMEDIATE")
            self.open, self.opened_at = True, time.monotonic()

    def _commit(self, message):
        self.in_transaction = False
        if self._skipping:
            self._skipping = False
            return
        self._pending_lsn, self._pending_time = message.end_lsn, message.commit_time
        self.pending["transactions"] += 1

    def _change(self, kind, message):
        layout = self._require_layout()
        self.pending["changes"] += 1
        if kind is Insert:
            self._put(layout.record(message.new, self))
        elif kind is Update:
            record = layout.record(message.new, self)
            if message.old is not None:
                old_id = layout.id_of(message.old)
                if old_id != record[0]:
                    self._states[old_id] = GONE
            self._put(record)
        elif kind is Delete:
            self._states[layout.id_of(message.old)] = GONE
        if len(self._states) >= FLUSH_IDS:
            self._write_states()

    def _require_layout(self):
        if self._layout is None:  # pgoutput sends the Relation before a table's first change
            raise OutOfStep(f"a change of {self.table} came before its columns were described")
        return self._layout

    def _put(self, record):
        if UNCHANGED in record:
            record = self._with_unchanged_values(record)
        self._states[record[0]] = record

    def _with_unchanged_values(self, record):
        """An update leaves a large text out when it kept it: the value is the row's last."""
        id_ = record[0]
        before = self._states[id_] if id_ in self._states else self._mirrored(id_)
        if before is GONE:
            raise OutOfStep(f"production updated id {id_!r}, which the mirror does not hold")
        return [b if value is UNCHANGED else value for value, b in zip(record, before, strict=True)]

    def _mirrored(self, id_):
        row = self.conn.execute(self._select, (id_,)).fetchone()
        return GONE if row is None else list(row)

    def _write_states(self):
        """Write the ids' last states set-wise, in the open SQLite transaction."""
        quoted = quote_identifier(self.table)
        if self._truncated:
            self.pending["removed"] += self.conn.execute(f"DELETE FROM {quoted}").rowcount
            self._truncated = False
        gone = [(id_,) for id_, record in self._states.items() if record is GONE]
        if gone:
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS seller_export_gone (id PRIMARY KEY)")
            self.conn.executemany("INSERT OR IGNORE INTO temp.seller_export_gone VALUES (?)", gone)
            self.pending["removed"] += self.conn.execute(
                f"DELETE FROM {quoted} WHERE id IN (SELECT id FROM temp.seller_export_gone)"
            ).rowcount
            self.conn.execute("DELETE FROM temp.seller_export_gone")
        records = [record for record in self._states.values() if record is not GONE]
        if records:
            written = merge(self.conn, self.table, records)
            self.pending["inserted"] += written.inserted
            self.pending["updated"] += written.updated
        self._states.clear()

    def where(self):
        """The production transaction being applied, for messages."""
        begin = self._transaction
        return f"production transaction {begin.xid} (committed at {format_lsn(begin.final_lsn)})"

    def commit(self):
        """Commit the whole transactions applied, with the position after the last."""
        if self.in_transaction:
            raise RuntimeError("a SQLite commit inside a production transaction")
        if not self.open:
            return
        self._write_states()
        if self.pending["transactions"]:
            state.write(
                self.conn,
                self.table,
                replication_lsn=format_lsn(self._pending_lsn),
                replication_commit_time=_format_utc_seconds(self._pending_time),
                synced_at=_format_utc_seconds(time.time()),
            )
        self.conn.execute("COMMIT")
        self.open = False
        self.lsn, self.commit_time = self._pending_lsn, self._pending_time
        self.totals.update(self.pending)
        self.pending.clear()

    def rollback(self):
        """Forget what is not committed: the stream will send it again from `lsn`."""
        # SQLite's own word: a signal may have come between a COMMIT and `open` being cleared.
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.open = self.in_transaction = self._skipping = False
        self._pending_lsn, self._pending_time = self.lsn, self.commit_time
        self.pending.clear()
        self._states.clear()
        self._truncated = False


def _format_utc_seconds(seconds):
    return format_utc(datetime.fromtimestamp(seconds, timezone.utc))


class _Layout:
    """Where each of the mirror's columns is in a tuple of production's table, as its latest
    Relation message describes it; refuses a shape the mirror cannot follow."""

    def __init__(self, relation, table, ignore_unknown_columns, applier):
        names = [column.name for column in relation.columns]
        check_columns(
            names,
            f"production's {relation.namespace}.{relation.name} now",
            ignore_unknown_columns,
            f"; {table} holds production up to {format_lsn(applier.lsn)}, before the change",
        )
        self.positions = [names.index(column) for column in COLUMNS]
        types = [relation.columns[position].type_oid for position in self.positions]
        self.integer_ids = types[0] in _INTEGER_OIDS
        # timestamptz, which the stream's session writes in UTC, has a quicker path.
        self.checks = tuple(
            (index, column, _stream_timestamp if types[index] == _TIMESTAMPTZ_OID else convert)
            for index, column, convert in FROM_TEXT
        )

    def id_of(self, values):
        id_ = values[self.positions[0]]
        return int(id_) if self.integer_ids and id_ is not None else id_

    def record(self, values, applier):
        record = [values[position] for position in self.positions]
        if self.integer_ids and record[0] is not None:
            record[0] = int(record[0])
        checks = self.checks
        if UNCHANGED in record:  # a large text the update left as it was: nothing to check
            checks = tuple(check for check in checks if record[check[0]] is not UNCHANGED)
        try:
            return typed(record, checks)
        except ValueError as error:
            raise RecordError(f"id {record[0]!r} in {applier.where()}", str(error)) from None
