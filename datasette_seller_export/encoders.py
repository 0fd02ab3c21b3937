"""The export formats, encoded by SQLite itself.

Each format is one SQL expression that turns a row of the sellers table into its finished
text (a CSV line, a JSON object), so a batch is encoded in C while SQLite walks the index and
Python only joins the lines. That is what lets an export run at close to the speed of the
`sqlite3` shell, and it releases the GIL so concurrent exports use both cores.

The bytes are exactly what Python's `csv` (RFC 4180, CRLF) and `json.dumps` (compact,
UTF-8) would write for the same row; `tests/test_encoders.py` holds the two to each other.
"""

import math
from dataclasses import dataclass

from .schema import BOOLEAN_COLUMNS, EXPORTED_COLUMNS

REAL_TEXT_FUNCTION = "seller_export_real_text"

# Text a spreadsheet would run as a formula starts with one of these (OWASP's list).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
UTF8_BOM = "\ufeff"


def real_text(value):
    """Python's shortest round-trip text for a float: what `json.dumps` and `csv` write.

    Registered on every connection as `seller_export_real_text`, and called by the SQL
    below only for the rare floats SQLite's own `%!.15g` cannot write exactly. Infinity is
    written 1e999, which JSON parsers read back as infinity.
    """
    if value is None:
        return None
    value = float(value)
    if math.isinf(value):
        return "1e999" if value > 0 else "-1e999"
    return repr(value)


def register_functions(conn):
    conn.create_function(REAL_TEXT_FUNCTION, 1, real_text, deterministic=True)


def _sql_string(text):
    return "'" + text.replace("'", "''") + "'"


def _real_sql(column):
    # Between 1e-4 and 1e15 Python writes a float in plain notation with its shortest
    # round-trip digits; when 15 significant digits round-trip, `%!.15g` gives those same
    # digits (and keeps the ".0"), so SQLite can do it. Anything else goes to Python.
    fast = f"printf('%!.15g', {column})"
    return (
        f"CASE WHEN abs({column}) >= 1e-4 AND abs({column}) < 1e15"
        f" AND CAST({fast} AS REAL) = {column} THEN {fast}"
        f" ELSE {REAL_TEXT_FUNCTION}({column}) END"
    )


def _csv_text_sql(column, escape_formulas):
    value = column
    if escape_formulas:
        prefixes = ", ".join(_sql_string(p) for p in FORMULA_PREFIXES)
        value = f"CASE WHEN substr({column}, 1, 1) IN ({prefixes}) THEN '''' || {column} ELSE {column} END"
    # RFC 4180 minimal quoting: only a field holding a quote, comma, CR or LF is quoted.
    needs_quotes = (
        f"instr({column}, '\"') OR instr({column}, ',')"
        f" OR instr({column}, char(10)) OR instr({column}, char(13))"
    )
    return (
        f"CASE WHEN {needs_quotes} THEN '\"' || replace({value}, '\"', '\"\"') || '\"'"
        f" ELSE {value} END"
    )


def csv_cell_sql(column, escape_formulas=True):
    """One CSV field: NULL empty, booleans true/false, numbers as Python writes them."""
    if column in BOOLEAN_COLUMNS:
        return f"CASE WHEN {column} IS NULL THEN '' WHEN {column} THEN 'true' ELSE 'false' END"
    return (
        f"CASE typeof({column}) WHEN 'null' THEN '' WHEN 'integer' THEN CAST({column} AS TEXT)"
        f" WHEN 'real' THEN {_real_sql(column)}"
        f" ELSE ({_csv_text_sql(f'CAST({column} AS TEXT)', escape_formulas)}) END"
    )


def json_value_sql(column):
    """One JSON value: NULL null, booleans true/false, text a JSON string."""
    if column in BOOLEAN_COLUMNS:
        return f"CASE WHEN {column} IS NULL THEN 'null' WHEN {column} THEN 'true' ELSE 'false' END"
    return (
        f"CASE typeof({column}) WHEN 'null' THEN 'null' WHEN 'integer' THEN CAST({column} AS TEXT)"
        f" WHEN 'real' THEN {_real_sql(column)}"
        f" ELSE json_quote(CAST({column} AS TEXT)) END"
    )


def csv_line_sql(escape_formulas=True, columns=EXPORTED_COLUMNS):
    cells = [csv_cell_sql(column, escape_formulas) for column in columns]
    return " || ',' || ".join(f"({cell})" for cell in cells) + " || char(13, 10)"


def json_object_sql(columns=EXPORTED_COLUMNS):
    parts = []
    for position, column in enumerate(columns):
        key = ("{" if position == 0 else ",") + _json_key(column) + ":"
        parts.append(f"{_sql_string(key)} || ({json_value_sql(column)})")
    return " || ".join(parts) + " || '}'"


def _json_key(column):
    return '"' + column + '"'


def csv_header(columns=EXPORTED_COLUMNS):
    return ",".join(columns) + "\r\n"


@dataclass(frozen=True)
class Format:
    """How one export format frames the rows that SQLite encodes.

    The body is `prefix`, then each row's text with `separator` between rows, then
    `suffix`. Rows from SQL already carry any line terminator of their own.
    """

    name: str
    extension: str
    content_type: str
    prefix: str = ""
    separator: str = ""
    suffix: str = ""

    def row_sql(self, escape_formulas=True):
        if self.name == "csv":
            return csv_line_sql(escape_formulas)
        if self.name == "ndjson":
            return json_object_sql() + " || char(10)"
        return json_object_sql()

    def encode_batch(self, row_texts, first):
        """The text for one batch of encoded rows, `first` when nothing came before it."""
        body = self.separator.join(row_texts)
        if not first and row_texts and self.separator:
            return self.separator + body
        return body


FORMATS = {
    "csv": Format("csv", "csv", "text/csv; charset=utf-8", prefix=csv_header()),
    "json": Format(
        "json", "json", "application/json; charset=utf-8", prefix="[", separator=",\n", suffix="]"
    ),
    "ndjson": Format("ndjson", "ndjson", "application/x-ndjson"),
}
