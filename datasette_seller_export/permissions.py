"""Who may export whose sellers, and the lock on Datasette's own view of the raw table."""

import json
from dataclasses import dataclass
from typing import FrozenSet, Optional

from datasette.permissions import Action, PermissionSQL

from . import memberships
from .config import config_for_checks, get_config

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


# Why a seller surface refuses an actor (403), as its access-denied event says.
NOT_SIGNED_IN = "not signed in"
NO_PERMISSION = "no permission"
TOKEN_RESTRICTED = "token restricted"
NOT_A_MEMBER = "not a member of the organisation"
NO_ORGANISATION = "no organisation"
TABLE_NOT_VISIBLE = "may not view the table"


class ScopeError(Exception):
    """The actor may not export the organisation asked for (403, and `refusal` says why), or
    none was resolvable (400: one must be chosen)."""

    def __init__(self, status, message, refusal=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.refusal = refusal


@dataclass(frozen=True)
class Access:
    can_read: bool  # read, or read_any_org which includes it
    can_read_any_org: bool
    orgs: FrozenSet[str] = frozenset()  # the actor's own organisations


async def _allowed(datasette, actor):
    allowed = await datasette.allowed_many(actions=[READ, READ_ANY_ORG], actor=actor)
    return allowed[READ] or allowed[READ_ANY_ORG], allowed[READ_ANY_ORG]


async def can_read(datasette, actor) -> bool:
    """Whether the actor may use the sellers at all (for links and menus)."""
    return (await _allowed(datasette, actor))[0]


async def access_for(datasette, actor) -> Access:
    """What the actor may read, its memberships looked up afresh (only for a reader)."""
    can_read_, any_org = await _allowed(datasette, actor)
    orgs = frozenset()
    config = get_config(datasette)
    if can_read_ and config.database is not None:
        db = datasette.get_database(config.database)
        orgs = await memberships.actor_orgs(datasette, db, config.memberships_table, actor)
    return Access(can_read=can_read_, can_read_any_org=any_org, orgs=orgs)


async def refusal(datasette, actor) -> str:
    """Why an actor that may not read is refused: a token's restrictions, when the actor
    behind it could read (Datasette applies them in `allowed`, from the actor's `_r`)."""
    if actor is None:
        return NOT_SIGNED_IN
    if "_r" in actor:
        unrestricted = {key: value for key, value in actor.items() if key != "_r"}
        if (await _allowed(datasette, unrestricted))[0]:
            return TOKEN_RESTRICTED
    return NO_PERMISSION


def resolve_org(access: Access, requested_org: Optional[str]) -> str:
    """The one organisation this request reads; never "all of them"."""
    if not access.can_read:
        raise ScopeError(
            403, f"Permission denied: exporting sellers needs the {READ} action", NO_PERMISSION
        )
    if requested_org:
        if requested_org in access.orgs or access.can_read_any_org:
            return requested_org
        raise ScopeError(
            403,
            f"Permission denied: org_id={requested_org} is not your organisation; "
            f"reading another organisation needs the {READ_ANY_ORG} action",
            NOT_A_MEMBER,
        )
    if len(access.orgs) == 1:
        return next(iter(access.orgs))
    if access.orgs:
        raise ScopeError(
            400,
            "Choose an organisation with org_id=: you belong to " + ", ".join(sorted(access.orgs)),
        )
    if access.can_read_any_org:
        raise ScopeError(400, "Choose an organisation with org_id=: your actor has none of its own")
    raise ScopeError(
        403,
        "Permission denied: your actor has no org_id and no memberships, so there is no "
        "organisation whose sellers you may read",
        NO_ORGANISATION,
    )


# Datasette's own pages would show every organisation and the internal columns to anyone who
# may view the sellers table or its search index, and every actor's organisations to anyone
# who may view the memberships table, and the newest change of any organisation to anyone who
# may view the sync's state table, so those actions are denied on them (one row each) to all
# but the any-org readers.
_TABLE_ACTIONS = frozenset({"view-table"})
_DATABASE_ACTIONS = frozenset({"execute-sql", "view-database-download"})
_TABLE_RULES_SQL = """
SELECT databases.value AS parent, tables.value AS child, 0 AS allow, :seller_reason AS reason
FROM json_each(:seller_dbs) AS databases, json_each(:seller_tables) AS tables
"""
_DATABASE_RULE_SQL = """
SELECT value AS parent, NULL AS child, 0 AS allow, :seller_reason AS reason
FROM json_each(:seller_dbs)
"""


async def raw_table_rules(datasette, actor, action) -> Optional[PermissionSQL]:
    if action not in _TABLE_ACTIONS and action not in _DATABASE_ACTIONS:
        return None
    # Read here, not taken from startup: a check made before this plugin's startup (by another
    # plugin's) must be denied just as one after it.
    config = await config_for_checks(datasette)
    if not config.locked_databases or not config.protect_raw_table:
        return None
    if await datasette.allowed(action=READ_ANY_ORG, actor=actor):
        return None
    reason = (
        f"datasette-seller-export: the raw {config.table} table, its search index, "
        f"{config.memberships_table} and the sync's state need {READ_ANY_ORG}"
    )
    # Several actions may be resolved in one query, so the parameters mean the same in each.
    return PermissionSQL(
        sql=_TABLE_RULES_SQL if action in _TABLE_ACTIONS else _DATABASE_RULE_SQL,
        params={
            "seller_dbs": json.dumps(config.locked_databases),
            "seller_tables": json.dumps(config.protected_tables),
            "seller_reason": reason,
        },
    )
