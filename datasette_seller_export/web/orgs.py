"""The organisations an actor may choose: `/-/sellers/orgs.json`, and the browse page's picker.

A member chooses among its own organisations; a `read_any_org` holder among every organisation
present in the mirror, found by stepping through the `(org_id, created_at, id)` index (one seek
per organisation) rather than scanning every row.
"""

import json

from ..engine.organisations import MAX_MIRROR_ORGS, mirror_orgs_sql
from .request import DATABASE_ERRORS, NO_ORG, RequestError, database_error, resolve_request
from .streaming import one_chunk, send_answer


async def org_choices(resolved, limit=MAX_MIRROR_ORGS):
    """The organisations the resolved request's actor may choose, sorted (a `read_any_org`
    holder's: at most `limit` of the mirror's)."""
    if not resolved.access.can_read_any_org:
        return sorted(resolved.access.orgs)
    rows = await resolved.execute(mirror_orgs_sql(resolved.config.table, limit), {})
    return [row[0] for row in rows]


async def orgs_view(datasette, request, send, receive):
    try:
        resolved = await resolve_request(datasette, request, scope=NO_ORG)
        try:
            orgs = await org_choices(resolved)
        except DATABASE_ERRORS as error:
            raise database_error(error, datasette) from None
    except RequestError as error:
        return error.json_response()
    answer = {"ok": True, "orgs": orgs, "any_org": resolved.access.can_read_any_org}
    body = json.dumps(answer).encode()
    headers = {"content-type": "application/json; charset=utf-8"}
    answer = await send_answer(datasette, request, send, receive, headers, one_chunk(body), "orgs")
    return answer.response
