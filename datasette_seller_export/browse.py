"""`/-/sellers`: browse and download an organisation's sellers in Datasette's own look, plus
the menu item and table action that lead there. Pages come from the API's paging code."""

import json

from datasette import Forbidden, NotFound
from datasette.utils.asgi import BadRequest, Response
from datasette.views.base import DatasetteError

from .config import get_config
from .database import datasette_execute
from .keyset import count_query
from .paging import fetch_page
from .params import (
    FILTER_PARAMETERS,
    ParameterError,
    parse_filters,
    parse_query_string,
    url_with_query,
)
from .permissions import access_for
from .schema import EXPORTED_COLUMNS, quote_identifier
from .streaming import classify_database_error
from .tokens import TokenError, encode_token
from .views import DATABASE_ERRORS, RequestError, page_request, resolve_request

PAGE_PATH = "/-/sellers"
PAGE_ROUTE = r"^/-/sellers$"
MAX_PICKER_ORGS = 1000
DOWNLOADS = [
    ("CSV", "csv", [], "Comma-separated values"),
    ("CSV for Excel", "csv", [("_bom", "1")], "CSV with a byte-order mark, so Excel reads UTF-8"),
    ("JSON", "json", [], "One JSON array"),
    ("NDJSON", "ndjson", [], "One JSON object per line"),
]

# Every organisation id, found by stepping through the keyset index (one seek per org)
# rather than scanning every row.
_ORG_IDS_SQL = """
WITH RECURSIVE orgs(org_id) AS (
    SELECT min(org_id) FROM {table}
    UNION ALL
    SELECT (SELECT min(org_id) FROM {table} WHERE org_id > orgs.org_id) FROM orgs
    WHERE orgs.org_id IS NOT NULL
)
SELECT org_id FROM orgs WHERE org_id IS NOT NULL LIMIT {limit}
"""


def _raise_for(error: RequestError):
    """Datasette's own HTML error pages, not JSON, for a person in a browser."""
    if error.status == 403:
        raise Forbidden(str(error))
    if error.status == 404:
        raise NotFound(str(error))
    if error.status == 400:
        raise BadRequest(str(error))
    raise DatasetteError(str(error), status=error.status)


async def _org_ids(db, table):
    sql = _ORG_IDS_SQL.format(table=quote_identifier(table), limit=MAX_PICKER_ORGS)
    return [row[0] for row in (await db.execute(sql)).rows]


async def browse_view(datasette, request):
    access = await access_for(datasette, request.actor)
    config = get_config(datasette)
    choosing_org = (
        access.can_read_any_org and not access.actor_org and not request.args.get("org_id")
    )
    try:
        if choosing_org:
            # An any-org reader with no org of its own: show the picker, and no rows yet.
            selection = None
            values = parse_query_string(request.query_string, FILTER_PARAMETERS + ("_size",))
            filters = parse_filters(values)
        else:
            config, filters, values, selection = await resolve_request(
                datasette, request, ("_size", "_next")
            )
        size, key, after = page_request(datasette, values, selection)
    except RequestError as error:
        _raise_for(error)
    except (TokenError, ParameterError) as error:
        raise BadRequest(str(error))
    if config.database is None:
        raise NotFound(f"No attached database has a {config.table!r} table")
    db = datasette.get_database(config.database)
    context = {
        "columns": EXPORTED_COLUMNS,
        "can_read_any_org": access.can_read_any_org,
        "actor_org": access.actor_org,
        "page_path": datasette.urls.path(PAGE_PATH),
        "org_ids": await _org_ids(db, config.table) if access.can_read_any_org else [],
        "selection": selection,
        "flagged": filters.flagged,
        "org_id_param": values.get("org_id", ""),
    }
    if selection is not None:
        execute = datasette_execute(datasette, db)
        try:
            page = await fetch_page(execute, selection, size, after)
            total = (await execute(*count_query(selection)))[0][0]
        except DATABASE_ERRORS as error:
            status, message, _ = classify_database_error(
                error, datasette.setting("sql_time_limit_ms")
            )
            raise DatasetteError(message, status=status)
        carried = filters.query_pairs()
        next_url = None
        if page.next_position is not None:
            size_pairs = [("_size", values["_size"])] if values.get("_size") else []
            next_url = url_with_query(
                datasette,
                PAGE_PATH,
                carried
                + size_pairs
                + [("_next", encode_token(key, selection, page.next_position))],
            )
        context.update(
            rows=json.loads(b"[" + page.rows_json + b"]"),
            total=total,
            next_url=next_url,
            first_url=url_with_query(datasette, PAGE_PATH, carried) if after is not None else None,
            downloads=[
                {
                    "label": label,
                    "title": title,
                    "href": url_with_query(datasette, f"/export/sellers/{fmt}", carried + extra),
                }
                for label, fmt, extra, title in DOWNLOADS
            ],
        )
    return Response.html(
        await datasette.render_template("seller_export_browse.html", context, request=request)
    )


def menu_links(datasette, actor):
    async def links():
        if get_config(datasette).database is None:
            return []
        if not (await access_for(datasette, actor)).can_read:
            return []
        return [{"href": datasette.urls.path(PAGE_PATH), "label": "Sellers"}]

    return links


def table_actions(datasette, actor, database, table):
    async def actions():
        if not get_config(datasette).is_sellers_table(database, table):
            return []
        if not (await access_for(datasette, actor)).can_read:
            return []
        return [
            {
                "href": datasette.urls.path(PAGE_PATH),
                "label": "Browse and export sellers",
                "description": "One organisation at a time, exported columns only",
            }
        ]

    return actions
