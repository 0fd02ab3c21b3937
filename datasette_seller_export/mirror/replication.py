"""Production's side of `sync --follow`: the checks that say what a DBA must change, the
publication, the replication slot, and the stream of `pgoutput` messages.

The stream is read with psycopg2's ReplicationCursor: psycopg 3 has no streaming-replication
API (psycopg issue #71), and polling `pg_logical_slot_peek_binary_changes` would decode the
slot's WAL again at every poll and add a poll interval to the lag (docs/design.md weighs the
choices). Everything else (the first copy, `--status`, `--drop-slot`) uses psycopg 3, as the
watermark sync does.

A slot makes PostgreSQL keep every WAL segment from the slot's position on, however long
nobody reads it: `--status` shows what it holds, `--drop-slot` removes it, and docs/mirror.md
says how `max_slot_wal_keep_size` bounds it.
"""

import hashlib
import os
import re
import socket
from contextlib import contextmanager
from dataclasses import dataclass

try:
    import psycopg2
    import psycopg2.errors
    import psycopg2.extras
except ImportError:  # the `postgres` extra is not installed
    psycopg2 = None

from .pgoutput import parse_lsn
from .postgres import ConnectionFailed, SourceError, connect, first_line, psycopg

INSTALL_HINT = (
    "following PostgreSQL needs psycopg2: pip install 'datasette-seller-export[postgres]'"
)
# How often the stream tells PostgreSQL how far the mirror has committed (psycopg2 sends it
# by itself), so that the slot's lag in pg_replication_slots is at most this old.
STATUS_INTERVAL_SECONDS = 1
# A network cut that closes nothing (a partition, a host gone) would leave the stream waiting
# for ever: the status sent every second goes unacknowledged, so libpq's TCP settings close
# the connection after 30 s of that (or of silence on an idle line), and it is retried.
PARTITION_GUARD = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}
# The SQLSTATEs of a connection that went away and may come back: the follower reconnects on
# these (class 08, connection exceptions; a server shutting down, crashed or starting; too
# many connections) and stops on anything else.
_TRANSIENT_CLASS = "08"
_TRANSIENT_CODES = {"57P01", "57P02", "57P03", "53300"}
_SLOT_NAME = re.compile(r"[a-z0-9_]{1,63}")


class SlotInUse(SourceError):
    """Another connection streams the slot: another follower, or this one's, cut off."""


def default_slot_name(db_path, host=None):
    """A slot name that says which mirror owns it: `seller_export_<host>_<file>_<hash>`, the
    hash of the mirror's absolute path telling two mirrors of one name apart."""
    path = os.path.abspath(db_path)
    host = host or socket.gethostname()

    def part(text, size):
        return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:size] or "x"

    digest = hashlib.sha1(f"{host}:{path}".encode()).hexdigest()[:8]
    stem = os.path.splitext(os.path.basename(path))[0]
    return f"seller_export_{part(host, 20)}_{part(stem, 16)}_{digest}"


def check_slot_name(name):
    if not _SLOT_NAME.fullmatch(name):
        raise SourceError(
            f"--slot {name!r}: a slot name is 1 to 63 lower-case letters, digits and underscores"
        )
    return name


def default_publication_name(source_table):
    return "seller_export_" + re.sub(r"[^a-z0-9]+", "_", source_table.lower()).strip("_")


def is_transient(error):
    """A lost or refused connection, a server shutting down or starting, the slot still held
    by this follower's walsender from before a cut: worth a retry once the stream has started
    (before that, the same errors are the answer). Either driver's errors: psycopg 3 runs the
    checks, psycopg2 the stream."""
    if isinstance(error, (ConnectionFailed, SlotInUse, TimeoutError)):
        return True
    code = getattr(error, "pgcode", None) or getattr(error, "sqlstate", None)
    if code:
        return code.startswith(_TRANSIENT_CLASS) or code in _TRANSIENT_CODES
    # No SQLSTATE: libpq's own errors, the server gone or not there yet.
    kinds = ()
    if psycopg is not None:
        kinds += (psycopg.OperationalError, psycopg.InterfaceError)
    if psycopg2 is not None:
        kinds += (psycopg2.OperationalError, psycopg2.InterfaceError)
    return isinstance(error, kinds)


@dataclass
class SlotCreated:
    consistent_lsn: int  # the copy holds every transaction committed before it, the slot the rest
    snapshot: str  # the snapshot the copy must read, valid until the connection's next command


class Stream:
    """A logical replication connection to production, for one follower."""

    def __init__(self, url):
        if psycopg2 is None:
            raise SourceError(INSTALL_HINT)
        try:
            self.conn = psycopg2.connect(
                url,
                connection_factory=psycopg2.extras.LogicalReplicationConnection,
                connect_timeout=10,
                **PARTITION_GUARD,
            )
        except psycopg2.Error as error:
            raise ConnectionFailed(f"cannot connect to PostgreSQL: {first_line(error)}") from None
        self.cursor = self.conn.cursor()
        # pgoutput writes values with the walsender session's settings: timestamps in UTC, as
        # the mirror stores them, and floats in their shortest exact form whatever the server's
        # default.
        for setting in ("TimeZone = 'UTC'", "DateStyle = 'ISO'", "extra_float_digits = 1"):
            self.cursor.execute(f"SET {setting}")

    def close(self):
        self.conn.close()

    def create_slot(self, slot):
        """A new slot for pgoutput, and the snapshot a first copy must read."""
        try:
            self.cursor.execute(
                f'CREATE_REPLICATION_SLOT "{slot}" LOGICAL pgoutput EXPORT_SNAPSHOT'
            )
        except psycopg2.errors.ConfigurationLimitExceeded as error:
            raise SourceError(
                f"PostgreSQL has no free replication slot ({first_line(error)}): raise "
                "max_replication_slots, or drop a slot nobody reads (sync --status shows this "
                "mirror's)"
            ) from None
        _, consistent_point, snapshot, _ = self.cursor.fetchone()
        return SlotCreated(parse_lsn(consistent_point), snapshot)

    def drop_slot(self, slot):
        self.cursor.execute(f'DROP_REPLICATION_SLOT "{slot}"')

    def start(self, slot, publication, lsn):
        """Stream the slot's transactions that commit at or after `lsn`."""
        try:
            self.cursor.start_replication(
                slot_name=slot,
                decode=False,
                start_lsn=lsn,
                options={"proto_version": "1", "publication_names": publication},
                status_interval=STATUS_INTERVAL_SECONDS,
            )
        except psycopg2.errors.ObjectInUse as error:
            raise SlotInUse(
                f"the slot {slot} is being read by another connection ({first_line(error)}): "
                "each mirror needs a slot of its own (--slot), and a follower cut off a "
                "moment ago holds it until PostgreSQL's wal_sender_timeout ends it"
            ) from None

    def read(self):
        """The next message's payload, or None if none has come."""
        try:
            message = self.cursor.read_message()
        except psycopg2.DatabaseError as error:
            # A stream cut off is a DatabaseError with no message (psycopg2 reads it from the
            # stream's empty result), on a connection it has marked closed.
            if self.conn.closed:
                raise ConnectionFailed(
                    f"the replication stream was cut off ({first_line(error)})"
                ) from None
            raise
        return None if message is None else message.payload

    @property
    def server_position(self):
        """How far the server has read its WAL for this stream, as its last message or
        keepalive said: every transaction that committed before it has been sent."""
        return self.cursor.wal_end

    def confirm(self, lsn):
        """Tell production the mirror has committed everything before `lsn` (psycopg2 sends it
        at the next status interval)."""
        self.cursor.send_feedback(flush_lsn=lsn, write_lsn=lsn, apply_lsn=lsn)

    def fileno(self):
        return self.conn.fileno()


def check_setup(url, source_table, publication):
    """Production's table (its OID, which pgoutput names it by, and its qualified name), or a
    SourceError with the fix when production cannot stream it: wal_level, the role's
    REPLICATION, the table's replica identity, the publication (created when missing and the
    role may). On an ordinary connection: a walsender refuses a role without REPLICATION
    before any of this could be asked."""
    with _admin(url) as conn:
        try:
            oid, qualified = conn.execute(
                "SELECT %s::regclass::oid, %s::regclass::text", (source_table, source_table)
            ).fetchone()
        except psycopg.errors.UndefinedTable:
            raise SourceError(
                f"no table {source_table!r} in the PostgreSQL database; name it with "
                "--source-table (schema.table where it is not on the search path)"
            ) from None
        (wal_level,) = conn.execute("SHOW wal_level").fetchone()
        if wal_level != "logical":
            raise SourceError(
                f"PostgreSQL's wal_level is {wal_level!r}; following needs 'logical': run "
                "ALTER SYSTEM SET wal_level = logical; and restart PostgreSQL (docs/mirror.md)"
            )
        role, may_replicate = conn.execute(
            "SELECT current_user, rolsuper OR rolreplication FROM pg_roles "
            "WHERE rolname = current_user"
        ).fetchone()
        if not may_replicate:
            raise SourceError(
                f"the role {role} may not read a replication slot: a superuser must run "
                f"ALTER ROLE {role} REPLICATION; (docs/mirror.md)"
            )
        _check_identity(conn, qualified)
        _check_publication(conn, qualified, publication)
    return oid, qualified


def _check_identity(conn, qualified_table):
    # The old key a delete or an id change sends must hold the id.
    identity, key_has_id = conn.execute(
        "SELECT c.relreplident, EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = c.oid "
        "AND a.attname = 'id' AND ((c.relreplident = 'd' AND i.indisprimary) "
        "OR (c.relreplident = 'i' AND i.indisreplident))) "
        "FROM pg_class c WHERE c.oid = %s::regclass",
        (qualified_table,),
    ).fetchone()
    if identity != "f" and not key_has_id:
        raise SourceError(
            f"{qualified_table}'s replica identity does not hold id, so a delete could not "
            f"name its row: ALTER TABLE {qualified_table} ADD PRIMARY KEY (id); or "
            f"ALTER TABLE {qualified_table} REPLICA IDENTITY FULL;"
        )


_PUBLICATION_SQL = (
    "SELECT pubinsert AND pubupdate AND pubdelete AND pubtruncate, EXISTS ("
    "SELECT 1 FROM pg_publication_tables t WHERE t.pubname = p.pubname AND "
    "format('%%I.%%I', t.schemaname, t.tablename)::regclass = %s::regclass) "
    "FROM pg_publication p WHERE pubname = %s"
)


def _check_publication(conn, qualified_table, publication):
    found = conn.execute(_PUBLICATION_SQL, (qualified_table, publication)).fetchone()
    if found is None:
        try:
            conn.execute(f'CREATE PUBLICATION "{publication}" FOR TABLE {qualified_table}')
            return
        except psycopg.errors.InsufficientPrivilege:
            raise SourceError(
                f"no publication {publication} and this role may not create it: the table's "
                f"owner or a superuser must run CREATE PUBLICATION {publication} FOR TABLE "
                f"{qualified_table};"
            ) from None
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            # Another follower made it meanwhile.
            found = conn.execute(_PUBLICATION_SQL, (qualified_table, publication)).fetchone()
    every_change, holds_table = found
    if not holds_table:
        raise SourceError(
            f"the publication {publication} does not hold {qualified_table}: run "
            f"ALTER PUBLICATION {publication} ADD TABLE {qualified_table};"
        )
    if not every_change:
        raise SourceError(
            f"the publication {publication} leaves out some kinds of change: run ALTER "
            f"PUBLICATION {publication} SET (publish = 'insert, update, delete, truncate');"
        )


@dataclass
class SlotStatus:
    name: str
    exists: bool
    active_pid: int | None = None
    wal_status: str | None = None  # reserved, extended, unreserved, lost
    confirmed_lsn: str | None = None
    retained_bytes: int | None = None  # WAL production keeps for the slot
    unconfirmed_bytes: int | None = None  # WAL written since the slot's confirmed position
    safe_wal_size: int | None = None  # how much more before max_slot_wal_keep_size invalidates it
    replay_lag_seconds: float | None = None  # as pg_stat_replication measures the follower
    current_lsn: str | None = None


_STATUS_SQL = """
SELECT s.active_pid, s.wal_status, s.confirmed_flush_lsn::text,
       pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint,
       pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::bigint,
       s.safe_wal_size,
       (SELECT extract(epoch FROM r.replay_lag) FROM pg_stat_replication r
        WHERE r.pid = s.active_pid),
       pg_current_wal_lsn()::text
FROM pg_replication_slots s WHERE s.slot_name = %s
"""


@contextmanager
def _admin(url):
    with connect(url) as conn:
        conn.autocommit = True
        yield conn


def slot_status(url, slot):
    with _admin(url) as conn:
        row = conn.execute(_STATUS_SQL, (slot,)).fetchone()
    if row is None:
        return SlotStatus(slot, exists=False)
    lag = None if row[6] is None else float(row[6])
    return SlotStatus(slot, True, *row[:6], replay_lag_seconds=lag, current_lsn=row[7])


def drop_slot(url, slot):
    """Drop `slot` if it exists; False if there was none. A slot a follower is reading is
    refused, with the follower's process id."""
    with _admin(url) as conn:
        try:
            row = conn.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                "WHERE slot_name = %s",
                (slot,),
            ).fetchone()
        except psycopg.errors.ObjectInUse:
            (pid,) = conn.execute(
                "SELECT active_pid FROM pg_replication_slots WHERE slot_name = %s", (slot,)
            ).fetchone()
            raise SourceError(
                f"the slot {slot} is being read by a follower (PostgreSQL process {pid}): "
                "stop it first"
            ) from None
    return row is not None
