"""Facets on the sellers, as Datasette's table pages have them: `_facet=COL` counts the
filtered selection's rows by a column's value, `_facet_date=created_at` by UTC day, in
`facet_results` shaped as Datasette's own table JSON. Counted over the whole selection, never
the page; they never change the rows."""

import urllib.parse

from datasette.database import QueryInterrupted

from ..engine.plans import planned_facet_query
from ..engine.schema import BOOLEAN_COLUMNS, EXPORTED_COLUMNS
from ..engine.selection import DATED_COLUMN, ParameterError
from .params import parse_size, path_with_query

FACET_PARAMETERS = ("_facet", "_facet_date")
FACET_SIZE_PARAMETER = "_facet_size"


def parse_facets(values, default_size, max_size):
    """`[(column, by_day)]` in the order asked, and the facet size: Datasette's
    `_facet_size` (a number or `max`, capped at `max_returned_rows`)."""
    facets = []
    for column in values.get("_facet", []):
        if column not in EXPORTED_COLUMNS:
            raise ParameterError(
                f"Cannot facet by {column!r}: facet by one of {', '.join(EXPORTED_COLUMNS)}"
            )
        facets.append((column, False))
    for column in values.get("_facet_date", []):
        if column != DATED_COLUMN:
            raise ParameterError(f"_facet_date={column!r}: only {DATED_COLUMN} has dates")
        facets.append((column, True))
    if len(set(facets)) != len(facets):
        raise ParameterError("A facet was asked for more than once: ask once")
    size = parse_size(
        values.get(FACET_SIZE_PARAMETER), default_size, max_size, FACET_SIZE_PARAMETER
    )
    return facets, size


def facet_pairs(values):
    """The facets asked for, as query parameters, for links that carry them on."""
    pairs = [(name, column) for name in FACET_PARAMETERS for column in values.get(name, [])]
    if values.get(FACET_SIZE_PARAMETER):
        pairs.append((FACET_SIZE_PARAMETER, values[FACET_SIZE_PARAMETER]))
    return pairs


def _filter_names(column, by_day):
    """The parameters that filter by one of a facet's values, the one its toggle adds first:
    flagged has its own, a day is `created_at__date`, a value `COL` or `COL__exact`."""
    if column in BOOLEAN_COLUMNS:
        return ("flagged",)
    if by_day:
        return (f"{column}__date",)
    return (column, f"{column}__exact")


def _as_filter_value(column, value):
    # flagged is filtered by its own parameter, as true or false.
    if column in BOOLEAN_COLUMNS:
        return "true" if value else "false"
    return str(value)


async def facet_results(datasette, request, resolved):
    """The resolved request's facets as Datasette's `facet_results` extra,
    `{"results": {...}, "timed_out": [...]}`: one entry per facet, its values with their
    counts, a toggle URL that adds the value's filter (or, when selected, removes it), and
    whether there were more values than the facet size. A facet past
    `facet_time_limit_ms` is named in `timed_out`, as Datasette does."""
    selection, size = resolved.selection, resolved.facet_size
    pairs = urllib.parse.parse_qsl(request.query_string, keep_blank_values=True)
    # A toggle goes to the first page.
    first_page = [p for p in pairs if p[0] != "_next"]
    limit_ms = datasette.setting("facet_time_limit_ms")
    results, timed_out = {}, []
    scan_rows = resolved.config.limits.scan_rows
    for column, by_day in resolved.facets:
        try:
            sql, params = await planned_facet_query(
                resolved.execute, selection, column, size, by_day, scan_rows
            )
            rows = await resolved.execute(sql, params, time_limit_ms=limit_ms)
        except QueryInterrupted:
            timed_out.append(column)
            continue
        names = _filter_names(column, by_day)
        without_facet = [p for p in pairs if p != ("_facet_date" if by_day else "_facet", column)]
        values = []
        for value, count in rows[:size]:
            if column in BOOLEAN_COLUMNS:
                value = bool(value)
            text = _as_filter_value(column, value)
            chosen = [(name, text) for name in names if (name, text) in pairs]
            if chosen:
                toggled = [p for p in first_page if p not in chosen]
            else:  # adding a value replaces the column's own
                toggled = [p for p in first_page if p[0] not in names] + [(names[0], text)]
            values.append(
                {
                    "value": value,
                    "label": text,
                    "count": count,
                    "toggle_url": datasette.absolute_url(
                        request, path_with_query(request, toggled)
                    ),
                    "selected": bool(chosen),
                }
            )
        key, n = column, 1
        while key in results:
            n += 1
            key = f"{column}_{n}"
        results[key] = {
            "name": column,
            "type": "date" if by_day else "column",
            "hideable": True,
            "toggle_url": path_with_query(request, without_facet),
            "results": values,
            "truncated": len(rows) > size,
        }
    return {"results": results, "timed_out": timed_out}
