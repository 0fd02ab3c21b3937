"""Reading a dump of the production `sellers` table (CSV, JSON or NDJSON) as typed records.

Records are numbered from 1, the first after any header, so that an error can say which.
"""

import io
import json
import os
import re

from .records import COLUMNS, FROM_JSON, FROM_TEXT, RecordError, check_columns, typed

FORMATS = ("csv", "json", "ndjson")
# One CSV field: quoted (with "" for a quote), or unquoted up to the next comma.
_CSV_FIELD = re.compile(r'"((?:[^"]|"")*)"|([^",]*)')


def _record(number):
    return f"record {number}" if number else None


def format_for(path, given=None):
    if given:
        return given
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension == "jsonl":
        extension = "ndjson"
    if extension not in FORMATS:
        raise RecordError(
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
        if not pending and '"' not in line:
            yield line.rstrip("\r\n")
            continue
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
            raise RecordError(
                _record(number),
                f"malformed CSV at character {position + 1}: {text[position : position + 20]!r}",
            )
        position += 1


def _csv_records(text_file):
    records = _csv_logical_records(text_file)
    try:
        header = parse_csv_record(next(records), 0)
    except StopIteration:
        raise RecordError(
            None, "the CSV file is empty: it needs a header row naming the columns"
        ) from None
    if any(name is None for name in header) or len(set(header)) != len(header):
        raise RecordError(None, "the CSV header must name each column once")
    check_columns(header)
    # Each record's fields in COLUMNS order; None when the header has them in that order.
    order = None if tuple(header) == COLUMNS else [header.index(c) for c in COLUMNS]
    for number, record in enumerate(records, start=1):
        # Most records quote nothing: splitting them is several times faster than parsing.
        if '"' in record:
            fields = parse_csv_record(record, number)
        else:
            fields = [field or None for field in record.split(",")]
        if len(fields) != len(header):
            raise RecordError(
                _record(number), f"has {len(fields)} fields where the header has {len(header)}"
            )
        yield number, fields if order is None else [fields[index] for index in order]


def _json_records(text_file, ndjson):
    if ndjson:
        lines = (line for line in text_file if line.strip())  # blank lines are not records
        for number, line in enumerate(lines, start=1):
            try:
                yield number, json.loads(line)
            except ValueError as error:
                raise RecordError(_record(number), f"is not valid JSON: {error}") from None
        return
    try:
        data = json.load(text_file)
    except ValueError as error:
        raise RecordError(None, f"the file is not valid JSON: {error}") from None
    if not isinstance(data, list):
        raise RecordError(None, "a JSON dump must be one array of objects")
    yield from enumerate(data, start=1)


def read_records(text_file, fmt):
    """Typed records (lists in COLUMNS order) from an open text file of the dump."""
    if fmt == "csv":
        for number, values in _csv_records(text_file):
            yield _typed(values, FROM_TEXT, number)
        return
    for number, record in _json_records(text_file, fmt == "ndjson"):
        if not isinstance(record, dict):
            raise RecordError(_record(number), "is not a JSON object")
        check_columns(list(record), _record(number))
        yield _typed([record[column] for column in COLUMNS], FROM_JSON, number)


def _typed(values, conversions, number):
    try:
        return typed(values, conversions)
    except ValueError as error:
        raise RecordError(_record(number), str(error)) from None


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
