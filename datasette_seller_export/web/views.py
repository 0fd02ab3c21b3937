"""The streamed exports and the paged JSON API. Thin: resolve the request, then hand over to
the export engine."""

import json
import time
import weakref

from ..engine.database import SharedThreads
from ..engine.export import ExportPlan, Tally, export_chunks
from ..engine.formats import FORMATS
from ..events import SellerExportEvent, emit, filters_asked, page_read
from ..routes import API_PATH
from .downloads import content_disposition
from .facets import facet_results
from .paging import fetch_page, page_links
from .request import (
    BOM_PARAMETER,
    DATABASE_ERRORS,
    PAGING_PARAMETERS,
    RequestError,
    database_error,
    resolve_request,
)
from .streaming import one_chunk, send_answer

_export_threads = weakref.WeakKeyDictionary()


def export_threads(datasette) -> SharedThreads:
    """Shared by every export of the instance: at most num_sql_threads - 1 batch queries at
    once, so that exports always leave a thread for other requests."""
    threads = _export_threads.get(datasette)
    if threads is None:
        count = max(1, datasette.setting("num_sql_threads") - 1)
        threads = _export_threads[datasette] = SharedThreads(count)
    return threads


async def export_view(datasette, request, send, receive):
    started = time.monotonic()
    fmt = FORMATS[request.url_vars["format"]]
    try:
        accepts = (BOM_PARAMETER,) if fmt.name == "csv" else ()
        resolved = await resolve_request(datasette, request, accepts, for_export=True)
        if not fmt.available:  # told only to whoever may export
            raise RequestError(501, fmt.missing_message())
    except RequestError as error:
        return error.json_response()
    plan = ExportPlan(
        selection=resolved.selection,
        format=fmt,
        batch_size=resolved.config.batch_size,
        escape_formulas=resolved.config.csv_escape_formulas,
        bom=resolved.bom,
        parallel_batches=resolved.config.parallel_batches,
    )
    headers = {
        "content-type": fmt.content_type,
        "content-disposition": content_disposition(plan),
        "x-content-type-options": "nosniff",
    }
    # HEAD is checked as GET is; send_answer closes the chunks unread: nothing read or encoded.
    tally = Tally()
    execute = export_threads(datasette).limit(resolved.execute)
    chunks = tally.counted(export_chunks(execute, plan, on_batch=tally.batch))
    org_id = resolved.selection.org_id
    answer = await send_answer(
        datasette,
        request,
        send,
        receive,
        headers,
        chunks,
        f"{fmt.name} export of org {org_id!r}",
        compressible=not fmt.compressed,
    )
    if answer.outcome is not None:
        event = SellerExportEvent(
            actor=request.actor,
            org_id=org_id,
            format=fmt.name,
            filters=filters_asked(resolved.criteria),
            rows=tally.rows,
            bytes=tally.bytes,
            encoding=answer.encoding,
            outcome=answer.outcome,
            duration_ms=round((time.monotonic() - started) * 1000, 1),
        )
        emit(datasette, event)
    return answer.response


async def api_view(datasette, request, send, receive):
    """`/-/sellers.json`: one page of sellers, Datasette-style, with opaque `next` and `prev`
    tokens."""
    try:
        resolved = await resolve_request(
            datasette,
            request,
            PAGING_PARAMETERS,
            faceted=True,
        )
        frame = {}
        try:
            # HEAD: the same links, no rows encoded, no facets counted
            page = await fetch_page(resolved, encode=request.method != "HEAD")
            if resolved.facets and request.method != "HEAD":
                frame["facet_results"] = await facet_results(datasette, request, resolved)
        except DATABASE_ERRORS as error:
            raise database_error(error, datasette) from None
    except RequestError as error:
        return error.json_response()
    links = []
    for rel, (token, path) in page_links(datasette, resolved, page, API_PATH).items():
        url = datasette.absolute_url(request, path) if path else None
        frame.update({rel: token, f"{rel}_url": url})
        if url:
            links.append(f'<{url}>; rel="{rel}"')
    headers = {"content-type": "application/json; charset=utf-8"}
    if links:
        headers["link"] = ", ".join(links)
    # The rows are already JSON, encoded by SQLite; only the frame is written here.
    frame_json = json.dumps(frame, separators=(",", ":"))
    body = b'{"ok":true,"rows":[' + page.rows_json + b"]," + frame_json[1:].encode()
    description = f"page of org {resolved.selection.org_id!r}"
    answer = await send_answer(
        datasette, request, send, receive, headers, one_chunk(body), description
    )
    if answer.outcome is not None:
        page_read(datasette, request, resolved, "api", page.count)
    return answer.response
