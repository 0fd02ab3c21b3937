"""HTTP views. Thin: parse, check, then hand over to the export engine."""

import sqlite3

from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response

from .config import get_config
from .database import datasette_execute
from .encoders import FORMATS
from .export import ExportPlan, content_disposition, export_chunks
from .keyset import Selection
from .params import FILTER_PARAMETERS, ParameterError, parse_bom, parse_filters, parse_query_string
from .permissions import READ, ScopeError, access_for, resolve_org
from .streaming import database_error_response, send_stream

EXPORT_ROUTE = r"^/export/sellers/(?P<format>csv|json|ndjson)$"
DATABASE_ERRORS = (sqlite3.Error, QueryInterrupted)


class RequestError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


async def resolve_request(datasette, request, extra_parameters=()):
    """The checks every seller endpoint makes, in order: method, permission, parameters, scope.

    Returns `(config, filters, values, selection)` or raises RequestError.
    """
    if request.method != "GET":
        raise RequestError(405, f"Method {request.method} is not allowed here: use GET")
    config = get_config(datasette)
    if config.database is None:
        raise RequestError(
            404, f"No attached database has a {config.table!r} table; see the plugin's README"
        )
    access = await access_for(datasette, request.actor)
    if not access.can_read:
        raise RequestError(403, f"Permission denied: this needs the {READ} action")
    try:
        values = parse_query_string(request.query_string, FILTER_PARAMETERS + tuple(extra_parameters))
        filters = parse_filters(values)
        org_id = resolve_org(access, filters.org_id)
    except ParameterError as error:
        raise RequestError(400, str(error))
    except ScopeError as error:
        raise RequestError(error.status, error.message)
    selection = Selection(table=config.table, org_id=org_id, flagged=filters.flagged)
    return config, filters, values, selection


async def export_view(datasette, request, send, receive):
    fmt = FORMATS[request.url_vars["format"]]
    try:
        config, filters, values, selection = await resolve_request(
            datasette, request, ("_bom",) if fmt.name == "csv" else ()
        )
        bom = parse_bom(values.get("_bom"))
    except RequestError as error:
        headers = {"Allow": "GET"} if error.status == 405 else None
        return Response.error([str(error)], error.status, headers=headers)
    except ParameterError as error:
        return Response.error([str(error)], 400)
    plan = ExportPlan(
        selection=selection,
        format=fmt,
        batch_size=config.batch_size,
        escape_formulas=config.csv_escape_formulas,
        bom=bom,
    )
    execute = datasette_execute(datasette, datasette.get_database(config.database))
    chunks = export_chunks(execute, plan)
    try:
        first_chunk = await chunks.__anext__()
    except DATABASE_ERRORS as error:
        await chunks.aclose()
        return database_error_response(error, datasette.setting("sql_time_limit_ms"))
    headers = {
        "content-type": fmt.content_type,
        "content-disposition": content_disposition(selection.org_id, fmt.extension),
        "x-content-type-options": "nosniff",
    }
    description = f"{fmt.name} export of org {selection.org_id!r}"
    await send_stream(send, receive, first_chunk, chunks, headers, description)


def routes():
    return [(EXPORT_ROUTE, export_view)]
