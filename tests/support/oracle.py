"""The expected export, computed without the plugin: a direct SQLite query in the contract's
order, encoded by Python's own `csv` and `json` modules."""

import csv
import fnmatch
import io
import json
import re
import sqlite3

# The contract's columns written out again, not imported from the plugin: an oracle that shared
# the allowlist with the code it checks would agree with any mistake in it.
EXPORTED = (
    "display_name",
    "normalized_name",
    "platform",
    "platform_id",
    "times_seen",
    "feedback_percent",
    "feedback_count",
    "flagged",
    "created_at",
)
INTERNAL = ("id", "org_id", "first_seen_run_id", "last_seen_run_id", "updated_at", "deleted_at")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def expected_rows(
    db_path, org_id, flagged=None, table="sellers", search=None, sort="created_at", desc=True
):
    """Exported columns of the org's live rows in the contract's order: by `sort` (NULLs last
    either way), ties by id in the same direction. `search` keeps the rows whose display or
    normalized name holds it, compared in lower case."""
    direction = "DESC" if desc else "ASC"
    sql = (
        f"SELECT {', '.join(EXPORTED)}, display_name, normalized_name FROM [{table}]"
        " WHERE org_id = ? AND deleted_at IS NULL"
    )
    params = [org_id]
    if flagged is not None:
        sql += " AND flagged = ?"
        params.append(int(flagged))
    sql += f" ORDER BY [{sort}] IS NULL, [{sort}] {direction}, id {direction}"
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute(sql, params).fetchall()
    finally:
        conn.close()
    if search is not None:
        term = search.lower()
        rows = [r for r in rows if any(term in (name or "").lower() for name in r[-2:])]
    return [dict(zip(EXPORTED, row[: len(EXPORTED)], strict=True)) for row in rows]


def _csv_cell(column, value, escape_formulas):
    if value is None:
        return ""
    if column == "flagged":
        return "true" if value else "false"
    if isinstance(value, str) and escape_formulas and value[:1] in FORMULA_PREFIXES:
        return "'" + value
    return value


def encode_csv(rows, escape_formulas=True, bom=False, columns=EXPORTED):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(c, row[c], escape_formulas) for c in columns])
    return ("\ufeff" if bom else "") + out.getvalue()


def chosen(rows, columns):
    """Only `columns` of each row, in the allowlist's order."""
    return [{c: row[c] for c in EXPORTED if c in columns} for row in rows]


NUMERIC = ("times_seen", "feedback_percent", "feedback_count")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _like(value, pattern):
    """SQL LIKE without ESCAPE: % any run, _ one character, ASCII letters in any case."""
    regex = "".join(
        ".*" if c == "%" else "." if c == "_" else re.escape(c.translate(_ASCII_LOWER))
        for c in pattern
    )
    return re.fullmatch(regex, str(value).translate(_ASCII_LOWER), re.DOTALL) is not None


def keeps(row, column, operator, text):
    """Whether Datasette's filter `column__operator=text` keeps `row`, decided in Python: the
    meaning the filters promise, written apart from the plugin's SQL."""
    value = row[column]
    if operator == "isnull":
        return value is None
    if operator == "notnull":
        return value is not None
    if operator == "isblank":
        return value is None or value == ""
    if operator == "notblank":
        return value is not None and value != ""
    if value is None:
        return False  # every comparison with NULL is unknown: the row is left out
    number = column in NUMERIC

    def typed(t):
        return float(t) if number else t

    plain = str(value).translate(_ASCII_LOWER)
    literal = text.translate(_ASCII_LOWER)
    if operator in ("in", "notin"):
        values = json.loads(text) if text.startswith("[") else text.split(",")
        found = any(
            (float(value) == float(v))
            if number
            else (value == (v if isinstance(v, str) else json.dumps(v)))
            for v in values
        )
        return found if operator == "in" else not found
    return {
        "exact": lambda: (float(value) == typed(text)) if number else value == text,
        "not": lambda: (float(value) != typed(text)) if number else value != text,
        "gt": lambda: value > typed(text),
        "gte": lambda: value >= typed(text),
        "lt": lambda: value < typed(text),
        "lte": lambda: value <= typed(text),
        "contains": lambda: literal in plain,
        "notcontains": lambda: literal not in plain,
        "startswith": lambda: plain.startswith(literal),
        "endswith": lambda: plain.endswith(literal),
        "like": lambda: _like(value, text),
        "notlike": lambda: not _like(value, text),
        "glob": lambda: fnmatch.fnmatchcase(str(value), text),
        "date": lambda: str(value)[:10] == text,
    }[operator]()


def json_object(row):
    row = dict(row)
    if row["flagged"] is not None:
        row["flagged"] = bool(row["flagged"])
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def encode_json(rows):
    return "[" + ",\n".join(json_object(row) for row in rows) + "]"


def encode_ndjson(rows):
    return "".join(json_object(row) + "\n" for row in rows)


def expected_export(
    db_path, org_id, fmt, flagged=None, escape_formulas=True, bom=False, search=None, sort=None
):
    """`sort` is `(column, descending)`; None is the default, created_at descending."""
    column, desc = sort or ("created_at", True)
    rows = expected_rows(db_path, org_id, flagged, search=search, sort=column, desc=desc)
    if fmt == "csv":
        return encode_csv(rows, escape_formulas, bom)
    return {"json": encode_json, "ndjson": encode_ndjson}[fmt](rows)
