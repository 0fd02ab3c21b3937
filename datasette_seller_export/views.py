"""HTTP views. Thin: parse, check, then hand over to the export engine."""

import json

from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response
from datasette.utils.sqlite import sqlite3  # Datasette's: pysqlite3 when installed

from .config import get_config
from .database import datasette_execute
from .encoders import FORMATS
from .export import ExportPlan, content_disposition, export_chunks
from .keyset import Selection
from .paging import fetch_page
from .params import (
    FILTER_PARAMETERS,
    ParameterError,
    parse_bom,
    parse_filters,
    parse_query_string,
    parse_size,
    url_with_query,
)
from .permissions import READ, ScopeError, access_for, resolve_org
from .streaming import database_error_response, send_stream
from .tokens import TokenError, decode_token, encode_token, token_key

EXPORT_ROUTE = r"^/export/sellers/(?P<format>csv|json|ndjson)$"
API_ROUTE = r"^/-/sellers\.json$"
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
        values = parse_query_string(
            request.query_string, FILTER_PARAMETERS + tuple(extra_parameters)
        )
        filters = parse_filters(values)
        org_id = resolve_org(access, filters.org_id)
    except ParameterError as error:
        raise RequestError(400, str(error))
    except ScopeError as error:
        raise RequestError(error.status, error.message)
    selection = Selection(table=config.table, org_id=org_id, flagged=filters.flagged)
    return config, filters, values, selection


def page_request(datasette, values, selection):
    """`_size` and `_next` of a paged request: `(size, token_key, position to start after)`."""
    size = parse_size(
        values.get("_size"),
        datasette.setting("default_page_size"),
        datasette.setting("max_returned_rows"),
    )
    key = token_key(datasette)
    after = decode_token(key, selection, values["_next"]) if values.get("_next") else None
    return size, key, after


def error_response(error):
    if isinstance(error, RequestError):
        headers = {"Allow": "GET"} if error.status == 405 else None
        return Response.error([str(error)], error.status, headers=headers)
    return Response.error([str(error)], 400)


async def export_view(datasette, request, send, receive):
    fmt = FORMATS[request.url_vars["format"]]
    try:
        config, filters, values, selection = await resolve_request(
            datasette, request, ("_bom",) if fmt.name == "csv" else ()
        )
        bom = parse_bom(values.get("_bom"))
    except (RequestError, ParameterError) as error:
        return error_response(error)
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


async def api_view(datasette, request):
    """`/-/sellers.json`: one page of sellers, Datasette-style, with an opaque `next` token."""
    try:
        config, filters, values, selection = await resolve_request(
            datasette, request, ("_size", "_next")
        )
        size, key, after = page_request(datasette, values, selection)
    except (RequestError, ParameterError, TokenError) as error:
        return error_response(error)
    execute = datasette_execute(datasette, datasette.get_database(config.database))
    try:
        page = await fetch_page(execute, selection, size, after)
    except DATABASE_ERRORS as error:
        return database_error_response(error, datasette.setting("sql_time_limit_ms"))
    next_token = next_url = None
    headers = {}
    if page.next_position is not None:
        next_token = encode_token(key, selection, page.next_position)
        query = filters.query_pairs() + [("_size", str(size)), ("_next", next_token)]
        next_url = datasette.absolute_url(
            request, url_with_query(datasette, "/-/sellers.json", query)
        )
        headers["Link"] = f'<{next_url}>; rel="next"'
    # The rows are already JSON, encoded by SQLite; only the frame is written here.
    body = (
        b'{"ok":true,"rows":['
        + page.rows_json
        + b'],"next":'
        + json.dumps(next_token).encode()
        + b',"next_url":'
        + json.dumps(next_url).encode()
        + b"}"
    )
    return Response(body, content_type="application/json; charset=utf-8", headers=headers)


def routes():
    return [(EXPORT_ROUTE, export_view), (API_ROUTE, api_view)]
