"""The organisations a mirror holds, and those whose ids look like one it does not hold (for a
hint where an id was mistyped)."""

import difflib
import re

from .schema import LIVE_ROWS, quote_identifier

NEAREST_ORGS = 3
# The most organisation ids read from a mirror at once (for a picker, orgs.json or a hint).
MAX_MIRROR_ORGS = 10_000

_MIRROR_ORGS_SQL = """
WITH RECURSIVE orgs(org_id) AS (
    SELECT min(org_id) FROM {table} WHERE {live}
    UNION ALL
    SELECT (SELECT min(org_id) FROM {table} WHERE org_id > orgs.org_id AND {live}) FROM orgs
    WHERE orgs.org_id IS NOT NULL
)
SELECT org_id FROM orgs WHERE org_id IS NOT NULL LIMIT {limit}
"""


def mirror_orgs_sql(table, limit):
    """At most `limit` of the ids of the organisations with live rows in `table`, sorted: one
    seek of a sort index (which holds live rows only) per organisation, rather than a scan of
    every row."""
    return _MIRROR_ORGS_SQL.format(table=quote_identifier(table), live=LIVE_ROWS, limit=int(limit))


def natural_key(text):
    """`org-2` before `org-10`: runs of digits compare as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def nearest(org_id, org_ids):
    """The ids most like `org_id`."""
    return difflib.get_close_matches(org_id, org_ids, n=NEAREST_ORGS, cutoff=0.4)


def unknown_org_hint(org_id, org_ids):
    """A sentence for an organisation the mirror has no sellers of: the ids like it."""
    like = nearest(org_id, [other for other in org_ids if other != org_id])
    if like:
        return f"organisations with ids like it: {', '.join(like)}"
    return "no organisation in the mirror has an id like it"
