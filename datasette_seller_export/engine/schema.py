"""The mirror's tables: the `sellers` table's columns, which of them are exported, and its
indexes; the names of the tables beside it."""

from dataclasses import dataclass

import sqlite_utils
from sqlite_utils.utils import sqlite3  # pysqlite3 where installed, as sqlite-utils uses

# What the mirror remembers about itself (see mirror/state.py); locked like the sellers table.
STATE_TABLE = "seller_export_state"
# What the state table's `timestamps` says once every timestamp of the mirror is in the form
# of mirror.timestamps.canonical (ISO-8601 UTC, so the text's first ten characters are its
# UTC day).
TIMESTAMPS_CANONICAL = "iso-8601-utc-microseconds"

# `AS MATERIALIZED` (see queries.batch_query) arrived in SQLite 3.35.0, March 2021.
MINIMUM_SQLITE_VERSION = (3, 35, 0)


def sqlite_version_problem(version_info, pysqlite3=False):
    """What stops the keyset queries from running on this SQLite (Datasette's: `pysqlite3`
    when it is installed), as a message that says how to fix it; None if fine."""
    if tuple(version_info) >= MINIMUM_SQLITE_VERSION:
        return None
    needed = ".".join(map(str, MINIMUM_SQLITE_VERSION))
    found = ".".join(map(str, version_info))
    if pysqlite3:
        return (
            f"SQLite {needed} or newer is needed, Datasette's pysqlite3 has {found}; "
            "upgrade it (`pip install -U pysqlite3-binary`) or uninstall it to use Python's own"
        )
    return (
        f"SQLite {needed} or newer is needed, this Python has {found}; "
        f"use a newer Python, or `pip install pysqlite3-binary`, which Datasette picks up"
    )


# Every column of the production table, in its order, with the type the mirror gives it.
COLUMN_TYPES = {
    "id": str,
    "org_id": str,
    "display_name": str,
    "normalized_name": str,
    "platform": str,
    "platform_id": str,
    "times_seen": int,
    "feedback_percent": float,
    "feedback_count": int,
    "flagged": int,
    "first_seen_run_id": str,
    "last_seen_run_id": str,
    "created_at": str,
    "updated_at": str,
    "deleted_at": str,
}

# The allowlist, in the order of every export. A column the mirror gains is never exported
# unless it is named here.
EXPORTED_COLUMNS = (
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
BOOLEAN_COLUMNS = frozenset({"flagged"})
# Times, as text in the form of mirror/timestamps.py.
TIMESTAMP_COLUMNS = ("created_at", "updated_at", "deleted_at")
NOT_NULL_COLUMNS = ("org_id",)
DEFAULTS = {"times_seen": 0, "flagged": 0}
DECLARED_TYPES = {str: "TEXT", int: "INTEGER", float: "REAL"}

# Ties in every order are broken by `id`, so the mirror must compare ids as production does.
# PostgreSQL compares integer ids as numbers, and uuid and text ids (in a C-collation
# database) by their bytes, as SQLite compares text. So the mirror declares `id` as production
# types it: BIGINT for integers (INTEGER affinity, so `'8'` is stored as 8 and sorts before 11;
# not the exact word INTEGER, which would make it the rowid), TEXT otherwise.
ID_TYPES = {"text": "TEXT", "integer": "BIGINT"}

# The orders a selection may be read in. Each is a walk of an index `(org_id, column, id)`:
# the default, created_at DESC, id DESC, walks the first of them backwards.
# The indexes hold live rows only, since every query reads only those: a count, a facet or a
# batch boundary then reads an index alone, where a full index would send it to each table
# row to check `deleted_at` (ten to twenty times slower, docs/benchmarks.md#filters-and-facets).
# SQLite uses a partial index only for a query whose WHERE holds this very term.
LIVE_ROWS = "deleted_at IS NULL"
DEFAULT_SORT_COLUMN = "created_at"
SORTABLE_COLUMNS = (
    DEFAULT_SORT_COLUMN,
    "display_name",
    "times_seen",
    "feedback_percent",
    "feedback_count",
    "platform",
)
# The columns search looks in, through an FTS5 index with the trigram tokenizer (SQLite
# 3.34+), whose triggers keep it current for every writer of the mirror.
SEARCHED_COLUMNS = ("display_name", "normalized_name")


def quote_identifier(name):
    """A table or column name as an SQL identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def sort_index_columns(column):
    """The sort index on `column`. Each but created_at's carries created_at after `id`: that
    leaves its order as it was (ids are unique), and lets a filter on the column list the
    rows it keeps in the default order from the index alone, without reading each row for
    its created_at (batches.listed_batches: 2.6 times faster on the 1M demo's platform=ebay)."""
    if column == DEFAULT_SORT_COLUMN:
        return ("org_id", column, "id")
    return ("org_id", column, "id", DEFAULT_SORT_COLUMN)


def sort_index_name(table, column):
    return f"idx_{table}_org_id_{column}_id"


def sort_index_sql(table, column):
    columns = ", ".join(map(quote_identifier, sort_index_columns(column)))
    return (
        f"CREATE INDEX {quote_identifier(sort_index_name(table, column))}"
        f" ON {quote_identifier(table)} ({columns}) WHERE {LIVE_ROWS}"
    )


def _ensure_sort_index(db: sqlite_utils.Database, table, column):
    """Create the sort index on `column`, or rebuild one of another form (an earlier
    release's: every row in it, or without created_at); returns what it did, or None."""
    name = sort_index_name(table, column)
    row = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", [name]
    ).fetchone()
    wanted = sort_index_sql(table, column)
    if row is not None and row[0] == wanted:
        return None
    if row is not None:
        db.execute(f"DROP INDEX {quote_identifier(name)}")
    db.execute(wanted)
    return (
        f"created index {name}"
        if row is None
        else f"rebuilt index {name}, made by an earlier release"
    )


def fts_table_name(table):
    return f"{table}_fts"


def fts_tables(table):
    """The search index and the tables FTS5 keeps it in: each would show every organisation's
    names to whoever may view it."""
    fts = fts_table_name(table)
    return (fts,) + tuple(f"{fts}_{shadow}" for shadow in ("data", "idx", "docsize", "config"))


def search_index(db: sqlite_utils.Database, table):
    """The name of `table`'s trigram search index over the searched columns; None without one."""
    fts = fts_table_name(table)
    if not db[fts].exists():
        return None
    schema = db[fts].schema.lower()
    if "trigram" in schema and all(column in schema for column in SEARCHED_COLUMNS):
        return fts
    return None


def table_problem(db, table):
    """What stops `table` from being exported, as a message that says the fix; None if usable."""
    if not db[table].exists():
        return f"no table {table!r}; create it with `datasette seller-export init`"
    present = {column.name for column in db[table].columns}
    needed = EXPORTED_COLUMNS + ("id", "org_id", "deleted_at")
    missing = [column for column in needed if column not in present]
    if missing:
        return (
            f"table {table!r} lacks the columns {', '.join(missing)}; "
            f"add them with `datasette seller-export init`"
        )
    return None


# STRICT tables (SQLite 3.37+) hold only each column's declared type, or NULL; a mirror's
# CHECKs keep every NUL character out of its exported text, as PostgreSQL's text keeps it
# out. An export of such a table needs neither a CASE on each value's storage class nor a
# NUL check on each row (encoders.ValueRules). New mirrors are made so where the SQLite
# allows it; `init` rebuilds an existing one (ensure_strict).
STRICT_SQLITE_VERSION = (3, 37, 0)
STRICT_SUPPORTED = sqlite3.sqlite_version_info >= STRICT_SQLITE_VERSION
EXPORTED_TEXT_COLUMNS = tuple(c for c in EXPORTED_COLUMNS if COLUMN_TYPES[c] is str)


@dataclass(frozen=True)
class ValueRules:
    """What a table guarantees of the values of its exported columns, which its exports'
    encoders may then leave unchecked. By default nothing: any SQLite table."""

    typed: bool = False  # each holds its declared type or NULL (STRICT)
    nul_free: bool = False  # no text holds a NUL character (nul_check_sql's CHECKs)


ANY_VALUES = ValueRules()
MIRROR_VALUES = ValueRules(typed=True, nul_free=True)  # a mirror this plugin made


def strict_type(declared):
    """The STRICT column type with the affinity SQLite gives `declared` (its rules in
    order): INT rather than INTEGER, which would make an `id INTEGER PRIMARY KEY` the rowid;
    ANY for NUMERIC and untyped columns, which keeps each value as it is."""
    upper = declared.upper()
    if "INT" in upper:
        return "INT"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "ANY"


def nul_check_sql(column):
    """The CHECK that keeps NUL out of `column`; its name is SQLite's message when a writer
    tries one ("CHECK constraint failed: display_name holds no NUL character")."""
    name = quote_identifier(f"{column} holds no NUL character")
    return f"CONSTRAINT {name} CHECK (instr({quote_identifier(column)}, char(0)) = 0)"


def create_table_sql(table, id_type="text", columns=None, strict=STRICT_SUPPORTED):
    """The CREATE TABLE of a mirror whose ids are of `id_type` (see ID_TYPES), STRICT and
    without NUL characters when `strict`. `columns` are `(name, declared type)` pairs, for a
    mirror that has more than COLUMN_TYPES."""
    if columns is None:
        columns = [(column, DECLARED_TYPES[kind]) for column, kind in COLUMN_TYPES.items()]
    definitions = []
    for column, declared in columns:
        if column == "id":
            declared = ID_TYPES[id_type]
        definition = f"{quote_identifier(column)} {strict_type(declared) if strict else declared}"
        if column == "id":
            definition += " PRIMARY KEY"
        if column in NOT_NULL_COLUMNS:
            definition += " NOT NULL"
        if column in DEFAULTS:
            definition += f" DEFAULT {DEFAULTS[column]}"
        definitions.append(definition)
    if strict:
        names = {column for column, _ in columns}
        definitions += [nul_check_sql(c) for c in EXPORTED_TEXT_COLUMNS if c in names]
    return (
        f"CREATE TABLE {quote_identifier(table)} (\n   "
        + ",\n   ".join(definitions)
        + ("\n) STRICT" if strict else "\n)")
    )


def strict_table_sql(table):
    """PRAGMA table_list of `table`: its rows say (schema, name, type, ncol, wr, strict).
    Older SQLite ignores the pragma and returns none."""
    return f"PRAGMA main.table_list({quote_identifier(table)})"


def listed_strict(rows, table):
    """Whether strict_table_sql's rows say that `table` is STRICT."""
    return any(row[1] == table and row[5] for row in rows)


def is_strict(conn, table):
    return listed_strict(conn.execute(strict_table_sql(table)).fetchall(), table)


DECLARED_TYPES_SQL = "SELECT name, type FROM pragma_table_info(:table)"
TABLE_SQL = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :table"


def value_rules(strict, declared, table_sql):
    """What a table guarantees (ValueRules), from whether it is STRICT, its `declared` types
    ({column: type}) and its CREATE TABLE: typed if STRICT with the types COLUMN_TYPES gives
    (not ANY), NUL-free if it holds every exported text column's nul_check_sql too."""
    wanted = {str: ("TEXT",), int: ("INT", "INTEGER"), float: ("REAL",)}
    typed = bool(strict) and all(
        declared.get(column, "").upper() in wanted[COLUMN_TYPES[column]]
        for column in EXPORTED_COLUMNS
    )
    nul_free = typed and all(nul_check_sql(c) in table_sql for c in EXPORTED_TEXT_COLUMNS)
    return ValueRules(typed=typed, nul_free=nul_free)


def id_type(db: sqlite_utils.Database, table):
    """The mirror's id type (a key of ID_TYPES), by the affinity its declared type gives."""
    declared = next(column.type for column in db[table].columns if column.name == "id")
    return "integer" if "INT" in declared.upper() else "text"


def rebuild_table(db: sqlite_utils.Database, table, id_type, strict):
    """Rebuild `table` with its ids declared as `id_type`, STRICT or not, keeping every row,
    its rowid (the search index refers to rows by rowid), every column, and its indexes and
    triggers. In the caller's transaction. A mirror made before ids were typed, from a bigint
    source, is rebuilt once so that its ties sort as production's; one made before mirrors
    were STRICT, so that its exports need no dispatch on each value's type."""
    conn = db.conn
    quoted, rebuilt = quote_identifier(table), f"{table}_rebuilt"
    columns = [(c.name, c.type) for c in db[table].columns]
    names = ", ".join(quote_identifier(name) for name, _ in columns)
    attached = conn.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL",
        [table],
    ).fetchall()
    conn.execute(create_table_sql(rebuilt, id_type, columns, strict))
    # The column's affinity converts each id as it is copied: '8' becomes 8, and back.
    copy = f"INSERT INTO {quote_identifier(rebuilt)} (rowid, {names}) SELECT rowid, {names}"
    conn.execute(f"{copy} FROM {quoted}")
    conn.execute(f"DROP TABLE {quoted}")
    conn.execute(f"ALTER TABLE {quote_identifier(rebuilt)} RENAME TO {quoted}")
    for (sql,) in attached:
        conn.execute(sql)


def ensure_id_type(db: sqlite_utils.Database, table, ids):
    """Rebuild `table` with ids of type `ids` if they are declared otherwise (see
    rebuild_table); returns whether it did."""
    if id_type(db, table) == ids:
        return False
    rebuild_table(db, table, ids, is_strict(db.conn, table))
    return True


class NotStrictable(Exception):
    """A value of the table does not fit its column's STRICT type."""


def ensure_strict(db: sqlite_utils.Database, table):
    """Rebuild `table` as STRICT, with its NUL checks, if it is not (and this SQLite has
    STRICT); returns whether it did. Raises NotStrictable, the table left as it was, when a
    value does not fit: text in an INTEGER column, a BLOB in a TEXT one, a NUL in a name."""
    if not STRICT_SUPPORTED:
        return False
    (table_sql,) = db.execute(TABLE_SQL, {"table": table}).fetchone()
    checked = all(nul_check_sql(c) in table_sql for c in EXPORTED_TEXT_COLUMNS)
    if checked and is_strict(db.conn, table):
        return False
    db.conn.execute("SAVEPOINT seller_export_strict")
    try:
        rebuild_table(db, table, id_type(db, table), strict=True)
    except sqlite3.IntegrityError as error:
        db.conn.execute("ROLLBACK TO seller_export_strict")
        raise NotStrictable(str(error).replace(f"{table}_rebuilt.", f"{table}.")) from None
    finally:
        db.conn.execute("RELEASE seller_export_strict")
    return True


def ensure_table(
    db: sqlite_utils.Database,
    table: str = "sellers",
    indexes="all",
    ids="text",
    strict=STRICT_SUPPORTED,
):
    """Create the table (its ids of type `ids`, see ID_TYPES), its sort indexes and its search
    index, or add what an existing mirror lacks. A bulk load into a new table is faster when
    its indexes are built once, after it: `indexes=None` creates none, "keyset" only the
    default order's (what an export needs). A new table is STRICT unless `strict` is false
    (as a mirror made by another writer may be).

    Idempotent. Returns a list of what was changed, for the command line to report.
    """
    changes = []
    if not db[table].exists():
        db.execute(create_table_sql(table, ids, strict=strict))
        changes.append(f"created table {table}" + (" with integer ids" if ids == "integer" else ""))
    else:
        present = {column.name for column in db[table].columns}
        for column, column_type in COLUMN_TYPES.items():
            if column not in present:
                # The type's name, not sqlite-utils' (FLOAT), which a STRICT table refuses.
                db[table].add_column(column, DECLARED_TYPES[column_type])
                changes.append(f"added column {table}.{column}")
    if indexes is None:
        return changes
    for column in SORTABLE_COLUMNS if indexes == "all" else SORTABLE_COLUMNS[:1]:
        change = _ensure_sort_index(db, table, column)
        if change:
            changes.append(change)
    if indexes == "all" and not db[fts_table_name(table)].exists():
        # Fills the index from the rows already there, then triggers keep it current.
        db[table].enable_fts(SEARCHED_COLUMNS, tokenize="trigram", create_triggers=True)
        changes.append(f"created search index {fts_table_name(table)}")
    if indexes == "all" and _narrow_update_trigger(db, table):
        changes.append(f"search index {fts_table_name(table)} now updated only when names change")
    return changes


def _narrow_update_trigger(db, table):
    """sqlite-utils' update trigger rewrites a row's search entries whatever column changed;
    a sync changes other columns far more often, and each rewrite costs (docs/benchmarks.md#sync).
    Returns whether it was narrowed to the searched columns: a trigger of another shape than
    sqlite-utils' is left as it is."""
    trigger = f"{table}_au"
    row = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [trigger]
    ).fetchone()
    if row is None or " UPDATE OF " in row[0]:
        return False
    on = f" AFTER UPDATE OF {', '.join(map(quote_identifier, SEARCHED_COLUMNS))} ON "
    narrowed = row[0].replace(" AFTER UPDATE ON ", on, 1)
    if narrowed == row[0]:
        return False
    db.execute(f"DROP TRIGGER {quote_identifier(trigger)}")
    db.execute(narrowed)
    return True
