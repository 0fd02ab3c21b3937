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

A change is applied by comparing it with the row the mirror has: an insert of a new id is an
INSERT, an update writes only the columns whose values differ (so that SQLite rewrites only
those columns' indexes and search entries), a delete removes the row, a truncate every row.
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
from .postgres import SourceError
from .records import COLUMNS, FROM_TEXT, RecordError, typed
from .timestamps import format_utc

# PostgreSQL's integer types (int2, int4, int8): ids of these compare as numbers.
_INTEGER_OIDS = (21, 23, 20)


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
        self._skipping = False
        self._layout = None
        self.pending = Counter()  # what the open SQLite transaction holds
        self.totals = Counter()  # what has been committed
        self.opened_at = None
        quoted = quote_identifier(table)
        self._select = f"SELECT {', '.join(COLUMNS[1:])} FROM {quoted} WHERE id = ?"
        self._insert = (
            f"INSERT INTO {quoted} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        )
        self._delete = f"DELETE FROM {quoted} WHERE id = ?"
        self._truncate = f"DELETE FROM {quoted}"
        self._updates = {}

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
                self.pending["removed"] += self.conn.execute(self._truncate).rowcount
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
                    self._remove(old_id)
            self._put(record)
        elif kind is Delete:
            self._remove(layout.id_of(message.old))

    def _require_layout(self):
        if self._layout is None:  # pgoutput sends the Relation before a table's first change
            raise OutOfStep(f"a change of {self.table} came before its columns were described")
        return self._layout

    def _put(self, record):
        conn = self.conn
        current = conn.execute(self._select, (record[0],)).fetchone()
        if current is None:
            if UNCHANGED in record:
                raise OutOfStep(
                    f"production updated id {record[0]!r}, which the mirror does not hold"
                )
            conn.execute(self._insert, record)
            self.pending["inserted"] += 1
            return
        changed = tuple(
            index
            for index in range(1, len(COLUMNS))
            if record[index] is not UNCHANGED and record[index] != current[index - 1]
        )
        if changed:
            conn.execute(self._update(changed), [record[i] for i in changed] + [record[0]])
            self.pending["updated"] += 1

    def _update(self, changed):
        sql = self._updates.get(changed)
        if sql is None:
            assignments = ", ".join(f"{COLUMNS[i]} = ?" for i in changed)
            sql = f"UPDATE {quote_identifier(self.table)} SET {assignments} WHERE id = ?"
            self._updates[changed] = sql
        return sql

    def _remove(self, id_):
        self.pending["removed"] += self.conn.execute(self._delete, (id_,)).rowcount

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
        if self.pending["transactions"]:
            state.write(
                self.conn,
                self.table,
                replication_lsn=format_lsn(self._pending_lsn),
                replication_commit_time=format_utc_seconds(self._pending_time),
                synced_at=format_utc_seconds(time.time()),
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


def format_utc_seconds(seconds):
    return format_utc(datetime.fromtimestamp(seconds, timezone.utc))


class _Layout:
    """Where each of the mirror's columns is in a tuple of production's table, as its latest
    Relation message describes it; refuses a shape the mirror cannot follow."""

    def __init__(self, relation, table, ignore_unknown_columns, applier):
        names = [column.name for column in relation.columns]
        missing = [column for column in COLUMNS if column not in names]
        where = f"production's {relation.namespace}.{relation.name}"
        if missing:
            raise SourceError(
                f"{where} no longer has the columns {', '.join(missing)}, which the mirror "
                f"needs; {table} holds production up to {format_lsn(applier.lsn)}"
            )
        unknown = [name for name in names if name not in COLUMNS]
        if unknown and not ignore_unknown_columns:
            raise SourceError(
                f"{where} gained the columns {', '.join(unknown)}, which the mirror does not "
                "know: add them to the mirror's schema, or follow with --ignore-unknown-columns "
                f"to mirror without them; {table} holds production up to "
                f"{format_lsn(applier.lsn)}, before the change"
            )
        self.positions = [names.index(column) for column in COLUMNS]
        self.integer_ids = relation.columns[self.positions[0]].type_oid in _INTEGER_OIDS

    def id_of(self, values):
        id_ = values[self.positions[0]]
        return int(id_) if self.integer_ids and id_ is not None else id_

    def record(self, values, applier):
        record = [values[position] for position in self.positions]
        if self.integer_ids and record[0] is not None:
            record[0] = int(record[0])
        checks = FROM_TEXT
        if UNCHANGED in record:  # a large text the update left as it was: nothing to check
            checks = tuple(check for check in FROM_TEXT if record[check[0]] is not UNCHANGED)
        try:
            return typed(record, checks)
        except ValueError as error:
            raise RecordError(f"id {record[0]!r} in {applier.where()}", str(error)) from None
