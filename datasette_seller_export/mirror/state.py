"""What the mirror remembers about itself, one row per sellers table: the form of its
timestamps, where and how far the last sync read, and, for a mirror that follows production's
logical replication, its slot and the position its rows are at.

The plugin locks this table like the sellers table (`Config.protected_tables`): the mark is
the newest change of any organisation.
"""

from ..engine.schema import STATE_TABLE, TIMESTAMPS_CANONICAL

# TIMESTAMPS_CANONICAL: every timestamp of the table is in the form of `timestamps.canonical`,
# set by every writer, so that a mirror written before the rule is rewritten once, and never
# scanned again; and a date facet counts days on the index (plans.planned_facet_query).
FIELDS = (
    "timestamps",
    "source",
    "high_water_mark",
    "synced_at",
    "replication_slot",
    "replication_lsn",
    "replication_commit_time",
)
# What a follower writes: cleared by `sync --drop-slot`.
REPLICATION_FIELDS = FIELDS[4:]

_CREATE = f"""CREATE TABLE IF NOT EXISTS {STATE_TABLE} (
    sellers_table TEXT PRIMARY KEY,
    timestamps TEXT,       -- {TIMESTAMPS_CANONICAL!r} once every timestamp is in that form
    source TEXT,           -- the PostgreSQL server, database and table the last sync read
    high_water_mark TEXT,  -- the greatest updated_at the last sync read
    synced_at TEXT,        -- when the last sync committed
    replication_slot TEXT, -- the slot `sync --follow` reads (None: the mirror does not follow)
    replication_lsn TEXT,  -- the end of the last production transaction the rows hold
    replication_commit_time TEXT  -- when production committed that transaction
)"""


def read(conn, table) -> dict:
    """The table's state (None for each field never written)."""
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (STATE_TABLE,)
    ).fetchone()
    if not exists:
        return dict.fromkeys(FIELDS)
    # A state table made before a field existed lacks its column until the next write.
    present = [field for field in FIELDS if field in _columns(conn)]
    row = conn.execute(
        f"SELECT {', '.join(present)} FROM {STATE_TABLE} WHERE sellers_table = ?", (table,)
    ).fetchone()
    return {**dict.fromkeys(FIELDS), **dict(zip(present, row or (), strict=False))}


def _columns(conn):
    names = conn.execute(f"SELECT name FROM pragma_table_info('{STATE_TABLE}')")
    return {name for (name,) in names}


def write(conn, table, **fields):
    """Set some of the table's fields, in the caller's transaction."""
    conn.execute(_CREATE)
    for field in set(FIELDS) - _columns(conn):
        conn.execute(f"ALTER TABLE {STATE_TABLE} ADD COLUMN {field} TEXT")
    conn.execute(
        f"INSERT INTO {STATE_TABLE} (sellers_table) VALUES (?) ON CONFLICT DO NOTHING", (table,)
    )
    assignments = ", ".join(f"{name} = ?" for name in fields)
    conn.execute(
        f"UPDATE {STATE_TABLE} SET {assignments} WHERE sellers_table = ?",
        (*fields.values(), table),
    )
