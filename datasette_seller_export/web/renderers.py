"""Output renderers `sellers_csv`, `sellers_json`, `sellers_xlsx` and `sellers_parquet` on the raw
sellers table's page.

A renderer sees one page of rows and cannot stream, so these do not render anything: they
hand over to the streaming export with a redirect that carries the table page's `org_id`
and `flagged` filters, its column filters on exported columns and its `_col`/`_nocol`. Any
other filter on the table page (on an internal column, `_where`, ...) could not be honoured by
the export, so it is refused rather than silently widened.

Their URLs (`/db/table.sellers_csv`) are also a plugin route, matched before Datasette's
table view: that view would first run the table page's own query, and Datasette 1.0a41
answers several malformed table-page parameters (`_timelimit=x`, `_facet=nope`, `_through`,
a NUL in a parameter name, ...) with a 500. The route checks what the table view would
(`view-table`) and hands over without ever running that query.
"""

import urllib.parse

from datasette.resources import TableResource
from datasette.utils import tilde_decode
from datasette.utils.asgi import Response

from ..config import get_config
from ..engine.formats import FORMATS
from ..engine.selection import (
    ParameterError,
    is_filter_parameter,
    parse_columns,
    parse_filter,
    parse_flagged,
)
from ..events import refused
from ..permissions import TABLE_NOT_VISIBLE, ScopeError, access_for, can_read, resolve_org
from ..routes import PAGE_PATH
from .params import url_with_query
from .request import DATABASE_ERRORS, database_error

# Table-page parameters that change only order, paging or presentation: safe to drop.
_PRESENTATION_PARAMETERS = {
    "_sort",
    "_sort_desc",
    "_size",
    "_next",
    "_facet",
    "_facet_array",
    "_facet_date",
    "_nofacet",
    "_nocount",
    "_labels",
    "_nolabels",
    "_trace",
    "_timelimit",
    "_ttl",
}
# The two filters the export understands, as the table page spells them.
_CARRIED = {
    "org_id": "org_id",
    "org_id__exact": "org_id",
    "flagged": "flagged",
    "flagged__exact": "flagged",
}


def export_url_for(datasette, request, fmt, access):
    """The export URL for this table page's filters (or the browse page, where an organisation
    is still to be chosen); ScopeError or ParameterError if neither will do."""
    carried, narrowing = {}, []
    for name, value in urllib.parse.parse_qsl(request.query_string, keep_blank_values=True):
        if name in _CARRIED and _CARRIED[name] not in carried:
            carried[_CARRIED[name]] = value
        elif name in ("_col", "_nocol"):
            narrowing.append((name, value))
        elif name not in _CARRIED and is_filter_parameter(name):
            parse_filter(name, value)  # a filter the export cannot take is refused here
            narrowing.append((name, value))
        elif name in _CARRIED or name not in _PRESENTATION_PARAMETERS:
            raise ParameterError(
                "The sellers export can carry one org_id, one flagged filter, column filters"
                f" on exported columns and _col/_nocol, not {name!r}: "
                "remove that filter from the table page and try again"
            )
    if "flagged" in carried:
        flagged = parse_flagged(carried["flagged"])
        carried["flagged"] = None if flagged is None else ("true" if flagged else "false")
    parse_columns(  # columns the export cannot write are refused here too
        [v for n, v in narrowing if n == "_col"], [v for n, v in narrowing if n == "_nocol"]
    )
    pairs = [("flagged", carried["flagged"])] if carried.get("flagged") else []
    pairs += narrowing
    try:
        org_id = resolve_org(access, carried.get("org_id") or None)
    except ScopeError as error:
        if error.status == 400:
            # No organisation chosen yet (the table page is not filtered by one): the browse
            # page's picker is where to choose it.
            return url_with_query(datasette, PAGE_PATH, pairs)
        raise
    return url_with_query(datasette, f"/export/sellers/{fmt}", [("org_id", org_id)] + pairs)


async def hand_over(datasette, request, database, table, fmt):
    """The redirect to the streaming export, or the JSON error that says why not. The link
    may be hidden, but the URL still dispatches: everything is checked again here."""
    if not get_config(datasette).is_sellers_table(database, table):
        return Response.error(["The sellers export renderers work only on the sellers table"], 404)
    try:
        access = await access_for(datasette, request.actor)  # reads the memberships table
        return Response.redirect(export_url_for(datasette, request, fmt, access))
    except DATABASE_ERRORS as error:
        return database_error(error, datasette).json_response()
    except ScopeError as error:
        if error.refusal is not None:
            refused(datasette, request, error.refusal)
        return Response.error([error.message], error.status)
    except ParameterError as error:
        return Response.error([str(error)], 400)


async def can_render(datasette, request, database, table, fmt):
    """Whether the table page offers the `fmt` renderer's link (see routes.output_renderers):
    not Parquet's without its extra."""
    if not FORMATS[fmt].available or not get_config(datasette).is_sellers_table(database, table):
        return False
    return await can_read(datasette, request.actor)


async def renderer_view(datasette, request):
    database = tilde_decode(request.url_vars["database"])
    table = tilde_decode(request.url_vars["table"])
    if request.method not in ("GET", "HEAD"):
        return Response.error(
            [f"Method {request.method} is not allowed here: use GET (or HEAD)"],
            405,
            headers={"Allow": "GET, HEAD"},
        )
    resource = TableResource(database=database, table=table)
    if not await datasette.allowed(action="view-table", resource=resource, actor=request.actor):
        refused(datasette, request, TABLE_NOT_VISIBLE)
        return Response.error(["Permission denied: you may not view this table"], 403)
    return await hand_over(datasette, request, database, table, request.url_vars["format"])
