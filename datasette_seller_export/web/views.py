"""The streamed exports and the paged JSON API. Thin: resolve the request, then hand over to
the export engine."""

import json

from datasette.utils.asgi import Response

from ..engine.encoders import FORMATS
from ..engine.export import ExportPlan, content_disposition, export_chunks
from .paging import fetch_page
from .params import url_with_query
from .request import (
    BOM_PARAMETER,
    DATABASE_ERRORS,
    PAGING_PARAMETERS,
    RequestError,
    database_error,
    resolve_request,
)
from .streaming import send_stream
from .tokens import encode_token

EXPORT_ROUTE = r"^/export/sellers/(?P<format>csv|json|ndjson)$"
API_ROUTE = r"^/-/sellers\.json$"


async def export_view(datasette, request, send, receive):
    fmt = FORMATS[request.url_vars["format"]]
    try:
        resolved = await resolve_request(
            datasette, request, (BOM_PARAMETER,) if fmt.name == "csv" else ()
        )
    except RequestError as error:
        return error.json_response()
    plan = ExportPlan(
        selection=resolved.selection,
        format=fmt,
        batch_size=resolved.config.batch_size,
        escape_formulas=resolved.config.csv_escape_formulas,
        bom=resolved.bom,
    )
    chunks = export_chunks(resolved.execute, plan)
    try:
        first_chunk = await chunks.__anext__()
    except DATABASE_ERRORS as error:
        await chunks.aclose()
        return database_error(error, datasette).json_response()
    org_id = resolved.selection.org_id
    headers = {
        "content-type": fmt.content_type,
        "content-disposition": content_disposition(org_id, fmt.name),
        "x-content-type-options": "nosniff",
    }
    description = f"{fmt.name} export of org {org_id!r}"
    await send_stream(send, receive, first_chunk, chunks, headers, description)


async def api_view(datasette, request):
    """`/-/sellers.json`: one page of sellers, Datasette-style, with an opaque `next` token."""
    try:
        resolved = await resolve_request(datasette, request, PAGING_PARAMETERS)
    except RequestError as error:
        return error.json_response()
    selection, size = resolved.selection, resolved.size
    try:
        page = await fetch_page(resolved.execute, selection, size, resolved.after)
    except DATABASE_ERRORS as error:
        return database_error(error, datasette).json_response()
    next_token = next_url = None
    headers = {}
    if page.next_position is not None:
        next_token = encode_token(resolved.token_key, selection, page.next_position)
        query = resolved.filters.query_pairs() + [("_size", str(size)), ("_next", next_token)]
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
