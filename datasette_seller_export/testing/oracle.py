"""The expected export, computed without the plugin: a direct SQLite query in the contract's
order, encoded by Python's own `csv` and `json` modules."""

import csv
import io
import json
import sqlite3

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


def expected_rows(db_path, org_id, flagged=None, table="sellers"):
    """Exported columns of the org's live rows, created_at DESC (NULLs last), id DESC."""
    sql = f"SELECT {', '.join(EXPORTED)} FROM [{table}] WHERE org_id = ? AND deleted_at IS NULL"
    params = [org_id]
    if flagged is not None:
        sql += " AND flagged = ?"
        params.append(int(flagged))
    sql += " ORDER BY created_at IS NULL, created_at DESC, id DESC"
    conn = sqlite3.connect(db_path)
    try:
        return [dict(zip(EXPORTED, row, strict=True)) for row in conn.execute(sql, params)]
    finally:
        conn.close()


def _csv_cell(column, value, escape_formulas):
    if value is None:
        return ""
    if column == "flagged":
        return "true" if value else "false"
    if isinstance(value, str) and escape_formulas and value[:1] in FORMULA_PREFIXES:
        return "'" + value
    return value


def encode_csv(rows, escape_formulas=True, bom=False):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORTED)
    for row in rows:
        writer.writerow([_csv_cell(c, row[c], escape_formulas) for c in EXPORTED])
    return ("\ufeff" if bom else "") + out.getvalue()


def json_object(row):
    row = dict(row)
    if row["flagged"] is not None:
        row["flagged"] = bool(row["flagged"])
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


def encode_json(rows):
    return "[" + ",\n".join(json_object(row) for row in rows) + "]"


def encode_ndjson(rows):
    return "".join(json_object(row) + "\n" for row in rows)


def expected_export(db_path, org_id, fmt, flagged=None, escape_formulas=True, bom=False):
    rows = expected_rows(db_path, org_id, flagged)
    if fmt == "csv":
        return encode_csv(rows, escape_formulas, bom)
    return {"json": encode_json, "ndjson": encode_ndjson}[fmt](rows)
