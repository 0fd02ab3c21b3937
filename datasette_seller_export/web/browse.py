"""`/-/sellers`: browse and download an organisation's sellers in Datasette's own look, plus
the menu item and table action that lead there. Pages come from the API's paging code."""

import json
import re
import urllib.parse

from datasette.utils.asgi import Response

from ..config import get_config
from ..engine.export import ExportPlan
from ..engine.formats import FORMATS
from ..engine.organisations import natural_key, nearest
from ..engine.plans import walk_or_scan
from ..engine.queries import count_query
from ..engine.schema import EXPORTED_COLUMNS, SORTABLE_COLUMNS
from ..engine.selection import DEFAULT_SORT, FILTER_OPERATORS, FILTERABLE_COLUMNS
from ..events import page_read
from ..permissions import can_read
from ..routes import PAGE_PATH
from .downloads import download_name
from .facets import FACET_PARAMETERS, facet_pairs, facet_results
from .orgs import org_choices
from .paging import fetch_page, page_links
from .params import path_with_query, query_pairs, url_with_query
from .request import (
    CHOOSE_ORG,
    DATABASE_ERRORS,
    PAGING_PARAMETERS,
    RequestError,
    database_error,
    resolve_request,
)

MAX_PICKER_ORGS = 1000
PAGE_SIZES = (20, 50, 100, 200, 500, 1000)
DOWNLOADS = [
    ("CSV", "csv", False, "Comma-separated values"),
    ("CSV for Excel", "csv", True, "CSV with a byte-order mark, so Excel reads UTF-8"),
    ("JSON", "json", False, "One JSON array"),
    ("NDJSON", "ndjson", False, "One JSON object per line"),
    ("Excel", "xlsx", False, "An Excel workbook (XLSX): typed cells, names exactly as they are"),
    ("Parquet", "parquet", False, "Apache Parquet, typed columns for pandas, polars or DuckDB"),
]


# The page's sort menu, in words: each sortable column ascending, then descending.
SORT_LABELS = {
    "created_at": ("Oldest first", "Newest first"),
    "display_name": ("Name, A to Z", "Name, Z to A"),
    "times_seen": ("Least seen first", "Most seen first"),
    "feedback_percent": ("Lowest feedback first", "Highest feedback first"),
    "feedback_count": ("Fewest ratings first", "Most ratings first"),
    "platform": ("Platform, A to Z", "Platform, Z to A"),
}
# The menu sends `_order=COL` (ascending) or `_order=-COL` (descending); the page redirects to
# Datasette's own spelling, `_sort=COL` or `_sort_desc=COL`, as its table pages do with
# `_sort=COL&_sort_by_desc=on` (which it takes too).
ORDER_PARAMETER = "_order"
ARROWS = {False: "\u25bc", True: "\u25b2"}  # Datasette's: ▼ on an ascending column, ▲ descending


def sort_choices():
    """`(value, label)` of the sort menu, the default (newest first) first."""
    choices = [("", SORT_LABELS["created_at"][1])]
    for column, (ascending, descending) in SORT_LABELS.items():
        choices.append((column, ascending))
        if column != "created_at":
            choices.append((f"-{column}", descending))
    return choices


# The filter rows send `_filter_column_N`, `_filter_op_N` and `_filter_value_N`, as Datasette's
# table page does; the page redirects to the filters' own spelling, `COL__OP=value`.
_FORM_FILTER = re.compile(r"_filter_(column|op|value)(?:_([0-9]+))?")


def canonical_url(request):
    """The page's URL with what its forms send said as the API says it: the sort menu's
    `_order` (or Datasette's `_sort_by_desc=on`) as `_sort`/`_sort_desc`, the filter rows as
    `COL__OP=value` (a row without a column dropped), the column chooser's `_col` dropped when
    it keeps every column, and an empty `_facet` dropped. None when it already is."""
    pairs = urllib.parse.parse_qsl(request.query_string, keep_blank_values=True)
    names = dict(pairs)
    rows, query = {}, []
    for name, value in pairs:
        form_filter = _FORM_FILTER.fullmatch(name)
        if form_filter:
            part, number = form_filter.groups()
            rows.setdefault(number or "", {})[part] = value
        elif name == ORDER_PARAMETER:
            if value.startswith("-"):
                query.append(("_sort_desc", value[1:]))
            elif value:
                query.append(("_sort", value))
        elif name == "_sort" and "_sort_by_desc" in names:
            query.append(("_sort_desc", value))
        elif name in FACET_PARAMETERS and value == "":
            continue
        elif name != "_sort_by_desc":
            query.append((name, value))
    for row in rows.values():
        if row.get("column"):
            operator = row.get("op") or "exact"
            query.append((f"{row['column']}__{operator}", row.get("value", "")))
    chosen = [value for name, value in query if name == "_col"]
    if set(chosen) == set(EXPORTED_COLUMNS):
        query = [(name, value) for name, value in query if name != "_col"]
    deduplicated = list(dict.fromkeys(query))  # the form repeats a facet it also carries
    if deduplicated == pairs:
        return None
    return path_with_query(request, deduplicated)


def column_headers(datasette, carried, sort, columns):
    """Each shown column's header: a sortable one links to its order, as Datasette's table
    headers do (ascending first; the sorted column to its other direction, with an arrow)."""
    unsorted = [(name, value) for name, value in carried if name not in ("_sort", "_sort_desc")]
    headers = []
    for column in columns:
        header = {"name": column, "href": None, "arrow": ""}
        if column in SORTABLE_COLUMNS:
            current = column == sort.column
            by = "_sort_desc" if current and not sort.descending else "_sort"
            header["href"] = url_with_query(datasette, PAGE_PATH, unsorted + [(by, column)])
            header["arrow"] = ARROWS[sort.descending] if current else ""
        headers.append(header)
    return headers


async def browse_view(datasette, request):
    canonical = canonical_url(request)
    if canonical is not None:
        return Response.redirect(canonical)
    try:
        resolved = await resolve_request(
            datasette,
            request,
            PAGING_PARAMETERS,
            scope=CHOOSE_ORG,
            faceted=True,
        )
        if request.method == "HEAD":
            return Response.html("")  # checked as GET is; nothing read or rendered
        context = await _context(datasette, request, resolved)
    except RequestError as error:
        error.raise_html()
    html = await datasette.render_template("seller_export_browse.html", context, request=request)
    if resolved.selection is not None:  # not the organisation picker
        page_read(datasette, request, resolved, "browse", len(context["rows"]))
    return Response.html(html)


def filter_rows(datasette, criteria, carried):
    """The filter rows of the form: each filter with a link that removes it."""
    rows = []
    for flt in criteria.filters:
        others = [pair for pair in carried if pair != (flt.parameter, flt.text)]
        rows.append(
            {
                "column": flt.column,
                "operator": flt.operator,
                "text": flt.text,
                "remove_url": url_with_query(datasette, PAGE_PATH, others),
            }
        )
    return rows


async def _context(datasette, request, resolved):
    access, selection, criteria = resolved.access, resolved.selection, resolved.criteria
    execute = resolved.execute
    count_limit = resolved.config.limits.count_limit
    sort = criteria.sort
    context = {
        "columns": criteria.columns,
        "all_columns": EXPORTED_COLUMNS,
        "filter_columns": FILTERABLE_COLUMNS,
        "filter_operators": FILTER_OPERATORS,
        "facet_choices": EXPORTED_COLUMNS,
        "carried_facets": facet_pairs(resolved.values),
        "can_read_any_org": access.can_read_any_org,
        "member_orgs": sorted(access.orgs, key=natural_key),
        "page_path": datasette.urls.path(PAGE_PATH),
        "selection": selection,
        "flagged": criteria.flagged,
        "search": criteria.search or "",
        "sort_value": ""
        if sort == DEFAULT_SORT
        else ("-" if sort.descending else "") + sort.column,
        "sort_choices": sort_choices(),
        "size": resolved.size,
        "page_sizes": [
            size
            for size in sorted({*PAGE_SIZES, resolved.size})
            if size <= datasette.setting("max_returned_rows")
        ],
        "org_id_param": resolved.criteria.org_id or "",
    }
    try:
        # A picker for whoever has more than one organisation to choose from.
        choosing = access.can_read_any_org or len(access.orgs) > 1
        org_ids = await org_choices(resolved, MAX_PICKER_ORGS) if choosing else []
        context["org_ids"] = sorted(org_ids, key=natural_key)
        if selection is None:
            return context  # the picker, and no rows yet
        page = await fetch_page(resolved)

        async def count(execute, selection):
            return (await execute(*count_query(selection, count_limit + 1)))[0][0]

        total, _ = await walk_or_scan(
            execute, page.selection, resolved.config.limits.scan_rows, count
        )
        facets = None
        if resolved.facets:
            facets = await facet_results(datasette, request, resolved)
    except DATABASE_ERRORS as error:
        raise database_error(error, datasette) from None
    links = page_links(datasette, resolved, page, PAGE_PATH)
    carried = query_pairs(criteria)
    on_page = carried + [("_size", str(resolved.size))] + facet_pairs(resolved.values)
    context["headers"] = column_headers(datasette, on_page, criteria.sort, criteria.columns)
    context["filter_rows"] = filter_rows(datasette, criteria, on_page)
    context["facets"] = facets
    exports = []
    for label, fmt, bom, title in DOWNLOADS:
        if not FORMATS[fmt].available:  # Parquet without its extra
            continue
        plan = ExportPlan(selection, FORMATS[fmt], resolved.config.batch_size, bom=bom)
        extra = [("_bom", "1")] if bom else []
        exports.append(
            {
                "label": label,
                "title": title,
                "href": url_with_query(datasette, f"/export/sellers/{fmt}", carried + extra),
                "filename": download_name(plan),
            }
        )
    unfiltered = not criteria.filtered
    context.update(
        rows=json.loads(b"[" + page.rows_json + b"]"),
        total=min(total, count_limit),
        total_is_more=total > count_limit,
        first_row=page.offset + 1,
        last_row=page.offset + page.count,
        next_url=links["next"][1],
        prev_url=links["prev"][1],
        # Two pages back or more: the previous page is not the first one.
        first_url=(
            url_with_query(datasette, PAGE_PATH, on_page)
            if page.prev and page.prev.offset
            else None
        ),
        downloads=exports,
        # An organisation with no live sellers at all, as an any-org reader typed it: say so,
        # and which ids that do have sellers look like it.
        nearest_orgs=(
            nearest(selection.org_id, [o for o in org_ids if o != selection.org_id])
            if total == 0 and unfiltered and access.can_read_any_org
            else []
        ),
        unfiltered=unfiltered,
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
