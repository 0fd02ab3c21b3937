"""The mirror's `sellers` table: its columns, which of them are exported, and its index."""

import sqlite_utils

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
NOT_NULL_COLUMNS = ("org_id",)

# The keyset: created_at DESC, id DESC within one organisation is a backwards walk of this.
KEYSET_INDEX_COLUMNS = ("org_id", "created_at", "id")


def quote_identifier(name):
    """A table or column name as an SQL identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def keyset_index_name(table):
    return f"idx_{table}_org_id_created_at_id"


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


def ensure_table(db: sqlite_utils.Database, table: str = "sellers"):
    """Create the table and keyset index, or add what an existing mirror lacks.

    Idempotent. Returns a list of what was changed, for the command line to report.
    """
    changes = []
    if not db[table].exists():
        db[table].create(
            COLUMN_TYPES,
            pk="id",
            not_null=set(NOT_NULL_COLUMNS),
            defaults={"flagged": 0, "times_seen": 0},
        )
        changes.append(f"created table {table}")
    else:
        present = {column.name for column in db[table].columns}
        for column, column_type in COLUMN_TYPES.items():
            if column not in present:
                db[table].add_column(column, column_type)
                changes.append(f"added column {table}.{column}")
    index_name = keyset_index_name(table)
    if not any(list(index.columns) == list(KEYSET_INDEX_COLUMNS) for index in db[table].indexes):
        db[table].create_index(KEYSET_INDEX_COLUMNS, index_name=index_name)
        changes.append(f"created index {index_name}")
    return changes
