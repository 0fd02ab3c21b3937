"""`/-/sellers`: browse and download an organisation's sellers in Datasette's own look, plus
the menu item and table action that lead there. Pages come from the API's paging code."""

import json

from datasette.utils.asgi import Response

from ..config import get_config
from ..engine.keyset import count_query
from ..engine.schema import EXPORTED_COLUMNS
from ..permissions import can_read
from .orgs import org_choices
from .paging import fetch_page
from .params import url_with_query
from .request import (
    CHOOSE_ORG,
    DATABASE_ERRORS,
    PAGING_PARAMETERS,
    RequestError,
    database_error,
    resolve_request,
)
from .tokens import encode_token

PAGE_PATH = "/-/sellers"
PAGE_ROUTE = r"^/-/sellers$"
MAX_PICKER_ORGS = 1000
DOWNLOADS = [
    ("CSV", "csv", [], "Comma-separated values"),
    ("CSV for Excel", "csv", [("_bom", "1")], "CSV with a byte-order mark, so Excel reads UTF-8"),
    ("JSON", "json", [], "One JSON array"),
    ("NDJSON", "ndjson", [], "One JSON object per line"),
]


async def browse_view(datasette, request):
    try:
        resolved = await resolve_request(datasette, request, PAGING_PARAMETERS, scope=CHOOSE_ORG)
        context = await _context(datasette, resolved)
    except RequestError as error:
        error.raise_html()
    return Response.html(
        await datasette.render_template("seller_export_browse.html", context, request=request)
    )


async def _context(datasette, resolved):
    access, selection, filters = resolved.access, resolved.selection, resolved.filters
    execute = resolved.execute
    try:
        # A picker for whoever has more than one organisation to choose from.
        choosing = access.can_read_any_org or len(access.orgs) > 1
        org_ids = await org_choices(resolved, MAX_PICKER_ORGS) if choosing else []
        context = {
            "columns": EXPORTED_COLUMNS,
            "can_read_any_org": access.can_read_any_org,
            "member_orgs": sorted(access.orgs),
            "page_path": datasette.urls.path(PAGE_PATH),
            "org_ids": org_ids,
            "selection": selection,
            "flagged": filters.flagged,
            "org_id_param": resolved.values.get("org_id", ""),
        }
        if selection is None:
            return context  # the picker, and no rows yet
        page = await fetch_page(execute, selection, resolved.size, resolved.after)
        total = (await execute(*count_query(selection)))[0][0]
    except DATABASE_ERRORS as error:
        raise database_error(error, datasette) from None
    carried = filters.query_pairs()
    next_url = None
    if page.next_position is not None:
        size = resolved.values.get("_size")
        next_token = encode_token(resolved.token_key, selection, page.next_position)
        next_url = url_with_query(
            datasette,
            PAGE_PATH,
            carried + ([("_size", size)] if size else []) + [("_next", next_token)],
        )
    first_url = (
        url_with_query(datasette, PAGE_PATH, carried) if resolved.after is not None else None
    )
    context.update(
        rows=json.loads(b"[" + page.rows_json + b"]"),
        total=total,
        next_url=next_url,
        first_url=first_url,
        downloads=[
            {
                "label": label,
                "title": title,
                "href": url_with_query(datasette, f"/export/sellers/{fmt}", carried + extra),
            }
            for label, fmt, extra, title in DOWNLOADS
        ],
    )
    return context


def menu_links(datasette, actor):
    async def links():
        if get_config(datasette).database is None:
            return []
        if not await can_read(datasette, actor):
            return []
        return [{"href": datasette.urls.path(PAGE_PATH), "label": "Sellers"}]

    return links


def table_actions(datasette, actor, database, table):
    async def actions():
        if not get_config(datasette).is_sellers_table(database, table):
            return []
        if not await can_read(datasette, actor):
            return []
        return [
            {
                "href": datasette.urls.path(PAGE_PATH),
                "label": "Browse and export sellers",
                "description": "One organisation at a time, exported columns only",
            }
        ]

    return actions
