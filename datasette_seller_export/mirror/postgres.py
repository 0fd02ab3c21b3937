"""Reading production's sellers table from PostgreSQL as typed records (psycopg 3, the
`postgres` extra).

One read-only REPEATABLE READ transaction per run, so that the count for the progress bar, the
high-water mark and the rows all come from one snapshot. The rows arrive through
`COPY (SELECT ...) TO STDOUT` in PostgreSQL's text format: the server formats timestamps in
the mirror's form (`to_char`, with the session in UTC), so the client only checks them, and
a column PostgreSQL types as the mirror does arrives as SQLite's column affinity stores it
(`12` in an INTEGER column is the number 12), and every other value is typed by the same rule
as a CSV dump's. Those checks are most of the client's work per row, so they are skipped only
where PostgreSQL's type makes them certain to pass.
"""

import re
from contextlib import contextmanager

try:
    import psycopg
except ImportError:  # the `postgres` extra is not installed: `sync` says how to install it
    psycopg = None

from ..engine.schema import COLUMN_TYPES, TIMESTAMP_COLUMNS
from .records import COLUMNS, FROM_TEXT, RecordError, timestamp_value, typed
from .timestamps import POSTGRES_FORMAT, WIDTH

INSTALL_HINT = (
    "syncing from PostgreSQL needs psycopg: pip install 'datasette-seller-export[postgres]'"
)
_TIMESTAMP_TYPES = ("timestamp with time zone", "timestamp without time zone")
_INTEGER_TYPES = ("smallint", "integer", "bigint")
# COPY's text format: a backslash starts an escape, `\N` alone is NULL.
_ESCAPE = re.compile(r"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


class SourceError(Exception):
    """The source cannot be read; the message says what to fix."""


class ConnectionFailed(SourceError):
    """PostgreSQL could not be reached (or refused the connection)."""


def _unescape(match):
    octal, hexadecimal, char = match.groups()
    if octal:
        return chr(int(octal, 8))
    if hexadecimal:
        return chr(int(hexadecimal, 16))
    return _SIMPLE_ESCAPES.get(char, char)


def parse_copy_line(line):
    """The fields of one line of COPY's text format (without its newline); None for NULL."""
    fields = line.split("\t")
    if "\\" not in line:
        return fields
    if "\\" not in line.replace("\\N", ""):  # NULLs, and no other escape: most lines
        return [None if field == "\\N" else field for field in fields]
    return [None if f == "\\N" else _ESCAPE.sub(_unescape, f) if "\\" in f else f for f in fields]


def check_columns(names, where, ignore_unknown_columns, position=""):
    """A production table with `names` must have every column the mirror needs, and one the
    mirror does not know stops a read unless ignored; `position` says where the mirror stands."""
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise SourceError(
            f"{where} lacks the columns {', '.join(missing)}, which the mirror needs{position}"
        )
    unknown = [column for column in names if column not in COLUMNS]
    if unknown and not ignore_unknown_columns:
        raise SourceError(
            f"{where} has columns the mirror does not know: {', '.join(unknown)}; add them to "
            "the mirror's schema, or pass --ignore-unknown-columns to sync without them"
            f"{position}"
        )


def first_line(error):
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


class Source:
    """The production table at `url`: `describe`, then `count`, `high_water_mark`, `records`."""

    def __init__(self, conn, table, selected, checks, id_type):
        self.conn, self.table, self.selected, self.checks = conn, table, selected, checks
        self.id_type = id_type  # how the mirror must type the ids (a key of schema.ID_TYPES)

    @property
    def description(self):
        info = self.conn.info
        return f"postgresql://{info.host}:{info.port}/{info.dbname} {self.table}"

    def _since(self, since):
        """The WHERE clause and its parameters of a read of the rows changed since `since`."""
        if since is None:
            return "", ()
        mark, overlap_seconds = since
        return (
            " WHERE updated_at >= %s::timestamptz - make_interval(secs => %s)",
            (mark, overlap_seconds),
        )

    def count(self, since=None):
        where, params = self._since(since)
        return self._one(f"SELECT count(*) FROM {self.table}{where}", params)

    def high_water_mark(self, since=None):
        """The greatest updated_at of the rows `records(since)` reads, in the mirror's form."""
        where, params = self._since(since)
        sql = f"SELECT to_char(max(updated_at), '{POSTGRES_FORMAT}') FROM {self.table}{where}"
        return self._one(sql, params)

    def _one(self, sql, params):
        try:
            return self.conn.execute(sql, params).fetchone()[0]
        except psycopg.Error as error:
            raise SourceError(f"{self.table}: {first_line(error)}") from None

    def records(self, since=None):
        """Typed records, each a list in COLUMNS order, streamed through COPY."""
        where, params = self._since(since)
        select = f"COPY (SELECT {', '.join(self.selected)} FROM {self.table}{where}) TO STDOUT"
        read = 0
        try:
            with self.conn.cursor().copy(select, params) as copy:
                for data in copy:
                    values = parse_copy_line(str(data, "utf-8")[:-1])
                    try:
                        yield typed(values, self.checks)
                    except ValueError as error:
                        raise RecordError(f"id {values[0]!r}", str(error)) from None
                    read += 1
        except psycopg.Error as error:
            raise SourceError(
                f"reading {self.table} failed after {read:,} rows: {first_line(error)}"
            ) from None


def connect(url):
    """A psycopg connection to `url`, or a SourceError that says why not."""
    if psycopg is None:
        raise SourceError(INSTALL_HINT)
    try:
        return psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as error:
        raise ConnectionFailed(f"cannot connect to PostgreSQL: {first_line(error)}") from None


@contextmanager
def open_source(url, table, ignore_unknown_columns=False, snapshot=None):
    """A Source for `table` at `url`, checked against the mirror's columns; reading the
    exported `snapshot` (a replication slot's) when one is given."""
    conn = connect(url)
    try:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        if snapshot is not None:  # the transaction's first statement, as PostgreSQL requires
            conn.execute(
                psycopg.sql.SQL("SET TRANSACTION SNAPSHOT {}").format(psycopg.sql.Literal(snapshot))
            )
        conn.execute("SET TIME ZONE 'UTC'")
        yield Source(conn, *_describe(conn, table, ignore_unknown_columns))
    finally:
        conn.close()


def _describe(conn, table, ignore_unknown_columns):
    """The table's quoted name, the SELECT list that reads it in the mirror's form, the checks
    its values need, and the type of its ids."""
    try:
        qualified = conn.execute("SELECT to_regclass(%s)::text", (table,)).fetchone()[0]
    except psycopg.Error as error:
        raise SourceError(f"--source-table {table!r}: {first_line(error)}") from None
    if qualified is None:
        raise SourceError(
            f"no table {table!r} in the PostgreSQL database; name it with --source-table "
            "(schema.table where it is not on the search path)"
        )
    types = dict(
        conn.execute(
            "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            (qualified,),
        ).fetchall()
    )
    check_columns(types, qualified, ignore_unknown_columns)
    selected, unchecked = [], set()
    for column in COLUMNS:
        name = psycopg.sql.Identifier(column).as_string(conn)
        kind = types[column]
        if column in TIMESTAMP_COLUMNS and kind in _TIMESTAMP_TYPES:
            # to_char would write infinity as NULL and 44 BC as 0044, so only years 1 to 9999
            # are formatted here; anything else arrives as PostgreSQL writes it and is refused.
            selected.append(
                f"CASE WHEN {name} BETWEEN '0001-01-01' AND '9999-12-31 23:59:59.999999' "
                f"THEN to_char({name}, '{POSTGRES_FORMAT}') ELSE {name}::text END"
            )
        elif column == "flagged" and kind == "boolean":
            selected.append(f"{name}::int")
            unchecked.add(column)
        else:
            selected.append(name)
            if COLUMN_TYPES[column] is int and kind in _INTEGER_TYPES:
                unchecked.add(column)
    checks = tuple(
        (index, column, _formatted_by_postgres if types[column] in _TIMESTAMP_TYPES else convert)
        for index, column, convert in FROM_TEXT
        if column not in unchecked
    )
    id_type = "integer" if types["id"] in _INTEGER_TYPES else "text"
    return qualified, selected, checks, id_type


def _formatted_by_postgres(column, value):
    """What to_char wrote is in the mirror's form; the rest is what it could not format."""
    return value if len(value) == WIDTH else timestamp_value(column, value)
