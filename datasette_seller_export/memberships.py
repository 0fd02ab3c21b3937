"""An actor's organisations: its own `org_id` (a string, or a list of strings), its rows in the
memberships table, and what implementations of the `seller_export_actor_orgs` hook return.

Datasette's API tokens and the actors of sign-in plugins carry an `id` and nothing of ours, so
the memberships table is how they get an organisation. It is read on every request (one
primary-key lookup), so removing a member takes effect at once.
"""

from typing import FrozenSet, Optional

from datasette.plugins import pm
from datasette.utils import await_me_maybe

from .engine.schema import quote_identifier

DEFAULT_TABLE = "seller_export_memberships"
COLUMNS = ("actor_id", "org_id")


def create_sql(table: str) -> str:
    """The table, keyed so that one actor's rows are one index range."""
    return (
        f"CREATE TABLE IF NOT EXISTS {quote_identifier(table)} ("
        "actor_id TEXT NOT NULL, org_id TEXT NOT NULL, PRIMARY KEY (actor_id, org_id))"
    )


def table_problem(db, table) -> Optional[str]:
    """What stops `table` from serving as the memberships table; None if it can."""
    if not db[table].exists():
        return f"no table {table!r}; create it with `datasette seller-export members add`"
    missing = [c for c in COLUMNS if c not in {column.name for column in db[table].columns}]
    if missing:
        return f"table {table!r} lacks the columns {', '.join(missing)}"
    return None


def _org_ids(value):
    """Org ids from one source: a string (or, for `actor["org_id"]` as before, a whole number),
    or a list of them. Anything else, and any entry of a list that is not a non-empty string,
    is ignored: a malformed value never widens the scope."""
    if isinstance(value, bool):
        return set()
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str):
        return {value} if value else set()
    if isinstance(value, (list, tuple, set, frozenset)):
        return {entry for entry in value if isinstance(entry, str) and entry}
    return set()


def orgs_in_actor(actor) -> FrozenSet[str]:
    """The organisations the actor itself names in `org_id`."""
    if not isinstance(actor, dict):
        return frozenset()
    return frozenset(_org_ids(actor.get("org_id")))


TABLE_EXISTS_SQL = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"


def _lookup(table, actor_id):
    quoted = quote_identifier(table)
    lookup_sql = f"SELECT org_id FROM {quoted} WHERE actor_id = ?"

    def run(conn):
        # The table is optional: a mirror without it simply has no memberships.
        if conn.execute(TABLE_EXISTS_SQL, [table]).fetchone() is None:
            return []
        return [row[0] for row in conn.execute(lookup_sql, [actor_id])]

    return run


async def orgs_in_table(db, table, actor) -> FrozenSet[str]:
    """The actor's rows in the memberships table, matched on its `id` exactly: no case folding,
    no trimming. An actor without a string `id` has none."""
    actor_id = actor.get("id") if isinstance(actor, dict) else None
    if not isinstance(actor_id, str) or not actor_id:
        return frozenset()
    return frozenset(_org_ids(await db.execute_fn(_lookup(table, actor_id))))


async def orgs_from_hooks(datasette, actor) -> FrozenSet[str]:
    orgs = set()
    for result in pm.hook.seller_export_actor_orgs(datasette=datasette, actor=actor):
        orgs |= _org_ids(await await_me_maybe(result))
    return frozenset(orgs)


async def actor_orgs(datasette, db, table, actor) -> FrozenSet[str]:
    """Every organisation the actor belongs to, from all three sources."""
    return (
        orgs_in_actor(actor)
        | await orgs_in_table(db, table, actor)
        | (await orgs_from_hooks(datasette, actor))
    )
