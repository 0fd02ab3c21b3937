"""Mirroring a dump of the production `sellers` table (CSV, JSON or NDJSON) into SQLite.

All or nothing: the records are upserted by `id` in one transaction, and the first bad
record stops the import with its number (1 is the first record after any header) and
leaves the database as it was.
"""

import io
import json
import os
import re
from dataclasses import dataclass

from ..engine.schema import COLUMN_TYPES, ensure_table, quote_identifier

FORMATS = ("csv", "json", "ndjson")
REQUIRED = ("id", "org_id")
_TRUE = {"t", "true", "1"}
_FALSE = {"f", "false", "0"}
# One CSV field: quoted (with "" for a quote), or unquoted up to the next comma.
_CSV_FIELD = re.compile(r'"((?:[^"]|"")*)"|([^",]*)')


class DumpError(Exception):
    def __init__(self, record_number, message):
        where = f"record {record_number}: " if record_number else ""
        super().__init__(where + message)


@dataclass
class ImportSummary:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self):
        return f"{self.inserted:,} inserted, {self.updated:,} updated, {self.unchanged:,} unchanged"


def format_for(path, given=None):
    if given:
        return given
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension == "jsonl":
        extension = "ndjson"
    if extension not in FORMATS:
        raise DumpError(
            None,
            f"cannot tell the format of {path!r} from its extension: "
            "pass --format csv, json or ndjson",
        )
    return extension


# --- reading ---------------------------------------------------------------------------------


def _csv_logical_records(text_lines):
    """Physical lines joined into records: a quoted field may hold line breaks."""
    pending = ""
    for line in text_lines:
        pending += line
        if pending.count('"') % 2 == 0:
            yield pending.rstrip("\r\n")
            pending = ""
    if pending:
        yield pending  # an unclosed quote: parsing it reports the error


def parse_csv_record(text, number):
    """Fields of one CSV record, PostgreSQL's way: an unquoted empty field is NULL (None), a
    quoted one ("") is the empty string."""
    fields, position = [], 0
    while True:
        match = _CSV_FIELD.match(text, position)
        quoted, plain = match.group(1), match.group(2)
        if quoted is not None:
            fields.append(quoted.replace('""', '"'))
        else:
            fields.append(plain if plain != "" else None)
        position = match.end()
        if position == len(text):
            return fields
        if text[position] != ",":
            raise DumpError(
                number,
                f"malformed CSV at character {position + 1}: {text[position : position + 20]!r}",
            )
        position += 1


def _csv_records(text_file):
    records = _csv_logical_records(text_file)
    try:
        header = parse_csv_record(next(records), 0)
    except StopIteration:
        raise DumpError(
            None, "the CSV file is empty: it needs a header row naming the columns"
        ) from None
    if any(name is None for name in header) or len(set(header)) != len(header):
        raise DumpError(None, "the CSV header must name each column once")
    _check_columns(header, 0)
    for number, record in enumerate(records, start=1):
        fields = parse_csv_record(record, number)
        if len(fields) != len(header):
            raise DumpError(number, f"has {len(fields)} fields where the header has {len(header)}")
        yield number, dict(zip(header, fields, strict=True))


def _json_records(text_file, ndjson):
    if ndjson:
        lines = (line for line in text_file if line.strip())  # blank lines are not records
        for number, line in enumerate(lines, start=1):
            try:
                yield number, json.loads(line)
            except ValueError as error:
                raise DumpError(number, f"is not valid JSON: {error}") from None
        return
    try:
        data = json.load(text_file)
    except ValueError as error:
        raise DumpError(None, f"the file is not valid JSON: {error}") from None
    if not isinstance(data, list):
        raise DumpError(None, "a JSON dump must be one array of objects")
    yield from enumerate(data, start=1)


def _check_columns(names, number):
    unknown = [n for n in names if n not in COLUMN_TYPES]
    missing = [c for c in COLUMN_TYPES if c not in names]
    if unknown:
        raise DumpError(
            number,
            f"unknown columns {', '.join(map(repr, unknown))}: "
            f"the sellers table has {', '.join(COLUMN_TYPES)}",
        )
    if missing:
        raise DumpError(
            number, f"missing columns {', '.join(missing)}: a dump holds every column of the table"
        )


def _typed(column, value, number, from_csv):
    """`value` as the schema types `column`; CSV values are text, JSON ones typed already."""
    if value is None:
        if column in REQUIRED:
            raise DumpError(number, f"{column} is missing: every seller needs an {column}")
        return None
    kind = COLUMN_TYPES[column]
    if column == "flagged":
        if from_csv and value.lower() in _TRUE | _FALSE:
            return int(value.lower() in _TRUE)
        if not from_csv and (isinstance(value, bool) or value in (0, 1)):
            return int(value)
        raise DumpError(number, f"flagged must be true or false, not {value!r}")
    if kind is str:
        if not isinstance(value, str):
            raise DumpError(number, f"{column} must be text, not {value!r}")
        if column in REQUIRED and value == "":
            raise DumpError(number, f"{column} is empty: every seller needs an {column}")
        return value
    try:
        if from_csv:
            return kind(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError
        if kind is int and value != int(value):
            raise ValueError
        return kind(value)
    except (ValueError, OverflowError):
        noun = "a whole number" if kind is int else "a number"
        raise DumpError(number, f"{column} must be {noun}, not {value!r}") from None


def read_records(text_file, fmt):
    """Typed records, each a dict of every column, from an open text file of the dump."""
    from_csv = fmt == "csv"
    source = _csv_records(text_file) if from_csv else _json_records(text_file, fmt == "ndjson")
    for number, record in source:
        if not from_csv:
            if not isinstance(record, dict):
                raise DumpError(number, "is not a JSON object")
            _check_columns(list(record), number)
        yield {column: _typed(column, record[column], number, from_csv) for column in COLUMN_TYPES}


# --- writing ---------------------------------------------------------------------------------


def import_records(db, table, records):
    """Upsert `records` by id into `table` (created, with its index, when missing), all in
    one transaction. Returns an ImportSummary; on any error nothing is written."""
    summary = ImportSummary()
    columns = list(COLUMN_TYPES)
    quoted_table = quote_identifier(table)
    select = f"SELECT {', '.join(columns)} FROM {quoted_table} WHERE id = ?"
    placeholders = ", ".join("?" * len(columns))
    insert = f"INSERT INTO {quoted_table} ({', '.join(columns)}) VALUES ({placeholders})"
    update = f"UPDATE {quoted_table} SET {', '.join(c + ' = ?' for c in columns[1:])} WHERE id = ?"
    with db.atomic():
        ensure_table(db, table)
        conn = db.conn
        for record in records:
            values = [record[c] for c in columns]
            existing = conn.execute(select, (record["id"],)).fetchone()
            if existing is None:
                conn.execute(insert, values)
                summary.inserted += 1
            elif list(existing) == values:
                summary.unchanged += 1
            else:
                conn.execute(update, values[1:] + [record["id"]])
                summary.updated += 1
    return summary


class CountingReader(io.RawIOBase):
    """A binary file that reports how many bytes have been read, for a progress bar."""

    def __init__(self, raw, on_read):
        self.raw, self.on_read = raw, on_read

    def readable(self):
        return True

    def readinto(self, buffer):
        count = self.raw.readinto(buffer)
        self.on_read(count or 0)
        return count
