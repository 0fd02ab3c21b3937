"""Who may export whose sellers, and the lock on Datasette's own view of the raw table."""

from dataclasses import dataclass
from typing import Optional

from datasette.permissions import Action, PermissionSQL

from .config import get_config

READ = "seller_collection.read"
READ_ANY_ORG = "seller_collection.read_any_org"

ACTIONS = [
    Action(
        name=READ,
        abbr=None,
        description="Browse and export the sellers of the actor's own organisation (actor org_id)",
    ),
    Action(
        name=READ_ANY_ORG,
        abbr=None,
        description="Browse and export the sellers of any organisation, chosen with org_id=",
    ),
]


class ScopeError(Exception):
    """The actor may not export the organisation asked for (or none was resolvable)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Access:
    can_read: bool  # read, or read_any_org which includes it
    can_read_any_org: bool
    actor_org: Optional[str]


def actor_org_id(actor) -> Optional[str]:
    """The actor's organisation, or None when it has none usable (fails closed)."""
    if not isinstance(actor, dict):
        return None
    org_id = actor.get("org_id")
    if isinstance(org_id, bool) or not isinstance(org_id, (str, int)):
        return None
    org_id = str(org_id)
    return org_id or None


async def access_for(datasette, actor) -> Access:
    allowed = await datasette.allowed_many(actions=[READ, READ_ANY_ORG], actor=actor)
    any_org = allowed[READ_ANY_ORG]
    return Access(
        can_read=allowed[READ] or any_org,
        can_read_any_org=any_org,
        actor_org=actor_org_id(actor),
    )


def resolve_org(access: Access, requested_org: Optional[str]) -> str:
    """The one organisation this request reads; never "all of them"."""
    if not access.can_read:
        raise ScopeError(403, f"Permission denied: exporting sellers needs the {READ} action")
    if requested_org:
        if requested_org == access.actor_org or access.can_read_any_org:
            return requested_org
        raise ScopeError(
            403,
            f"Permission denied: org_id={requested_org} is not your organisation; "
            f"reading another organisation needs the {READ_ANY_ORG} action",
        )
    if access.actor_org:
        return access.actor_org
    if access.can_read_any_org:
        raise ScopeError(400, "Choose an organisation with org_id=: your actor has none of its own")
    raise ScopeError(
        403,
        "Permission denied: your actor has no org_id, so there is no organisation "
        "whose sellers you may read",
    )


# Datasette's own pages would show every organisation and the internal columns to anyone who
# may view the table, so those actions are denied on it to all but the any-org readers.
_TABLE_ACTIONS = frozenset({"view-table"})
_DATABASE_ACTIONS = frozenset({"execute-sql", "view-database-download"})


async def raw_table_rules(datasette, actor, action) -> Optional[PermissionSQL]:
    if action not in _TABLE_ACTIONS and action not in _DATABASE_ACTIONS:
        return None
    config = get_config(datasette)
    if config.database is None or not config.protect_raw_table:
        return None
    if await datasette.allowed(action=READ_ANY_ORG, actor=actor):
        return None
    reason = f"datasette-seller-export: the raw {config.table} table needs {READ_ANY_ORG}"
    # Several actions may be resolved in one query, so the parameters mean the same in each.
    child = ":seller_table" if action in _TABLE_ACTIONS else "NULL"
    return PermissionSQL(
        sql=f"SELECT :seller_db AS parent, {child} AS child, 0 AS allow, :seller_reason AS reason",
        params={
            "seller_db": config.database,
            "seller_table": config.table,
            "seller_reason": reason,
        },
    )
