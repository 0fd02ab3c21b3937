"""Writing the memberships table: who belongs to which organisation.

Every change is one transaction; a bad argument or a bad line of a file changes nothing. Ids
are stored exactly as given, since the plugin matches an actor's `id` exactly.
"""

import csv
from dataclasses import dataclass

from ..engine.schema import quote_identifier
from ..memberships import COLUMNS, TABLE_EXISTS_SQL, create_sql


class MembersError(Exception):
    """A membership that cannot be written; the message says what to fix."""


def check_id(kind, value, where=""):
    """`value` as an actor or org id, or MembersError: ids are matched exactly, so an empty one
    or one with white space at either end is almost surely a mistake."""
    if not isinstance(value, str) or value == "":
        raise MembersError(
            f"{where}the {kind} is empty: every membership names an actor and an org"
        )
    if value != value.strip():
        raise MembersError(
            f"{where}the {kind} {value!r} starts or ends with white space; ids are matched "
            "exactly, so give it without"
        )
    return value


@dataclass
class Change:
    added: int = 0
    removed: int = 0

    def __str__(self):
        return f"{self.added:,} added, {self.removed:,} removed"


def ensure_table(conn, table):
    conn.execute(create_sql(table))


def add(conn, table, actor_id, org_ids) -> Change:
    """`actor_id` joins each of `org_ids`; a membership already there is left as it is."""
    pairs = [(check_id("actor id", actor_id), check_id("org id", org)) for org in org_ids]
    with conn:
        ensure_table(conn, table)
        return Change(added=_insert(conn, table, pairs))


def remove(conn, table, actor_id, org_ids) -> Change:
    pairs = [(check_id("actor id", actor_id), check_id("org id", org)) for org in org_ids]
    with conn:
        ensure_table(conn, table)
        sql = f"DELETE FROM {quote_identifier(table)} WHERE actor_id = ? AND org_id = ?"
        return Change(removed=sum(conn.execute(sql, pair).rowcount for pair in pairs))


def listed(conn, table, actor_id=None, org_id=None):
    """The memberships, sorted, optionally of one actor or one organisation."""
    if conn.execute(TABLE_EXISTS_SQL, [table]).fetchone() is None:
        return []
    where, params = [], []
    for column, value in (("actor_id", actor_id), ("org_id", org_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = f"SELECT actor_id, org_id FROM {quote_identifier(table)}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return conn.execute(sql + " ORDER BY actor_id, org_id", params).fetchall()


def read_csv(text_file):
    """`(actor_id, org_id)` pairs from a CSV file whose header is `actor_id,org_id`."""
    rows = csv.reader(text_file)
    header = next(rows, None)
    if header != list(COLUMNS):
        raise MembersError(f"the first line must be the header {','.join(COLUMNS)}, not {header}")
    pairs = []
    for number, row in enumerate(rows, start=1):
        where = f"record {number}: "
        if len(row) != 2:
            raise MembersError(f"{where}has {len(row)} fields where the header has 2")
        pairs.append((check_id("actor id", row[0], where), check_id("org id", row[1], where)))
    return pairs


def import_pairs(conn, table, pairs, replace=False) -> Change:
    """Add `pairs`; with `replace`, also remove every membership they do not name, so that the
    table is exactly the file. One transaction."""
    with conn:
        ensure_table(conn, table)
        change = Change()
        if replace:
            wanted = set(pairs)
            quoted = quote_identifier(table)
            stale = [
                p for p in conn.execute(f"SELECT actor_id, org_id FROM {quoted}") if p not in wanted
            ]
            sql = f"DELETE FROM {quoted} WHERE actor_id = ? AND org_id = ?"
            conn.executemany(sql, stale)
            change.removed = len(stale)
        change.added = _insert(conn, table, pairs)
        return change


def _insert(conn, table, pairs):
    before = conn.total_changes
    conn.executemany(
        f"INSERT OR IGNORE INTO {quote_identifier(table)} (actor_id, org_id) VALUES (?, ?)", pairs
    )
    return conn.total_changes - before
