"""The keyset engine's SQL: pure builders of `(sql, parameters)` for one organisation's live
sellers in a keyset order (by default `created_at DESC, id DESC`). `tests/reference_sql/`
holds what they build, and `tests/test_reference_sql.py` pins it.

Each batch is one query that walks the `(org_id, column, id)` index of the sort column from
just after the last row of the previous batch, so every batch costs the same however deep
into the export it is, and a row is never written twice (keys only move one way). Rows with
no value in the sort column come after all others; a row-value comparison is false for them,
so a batch that reaches them reads on with a second, equally indexed walk, which reads only as
many rows as the first one fell short of the batch.

A search whose matches are listed (see plans.with_search_plan) is exported another way: its
rows are listed in order once (match_list_query), then looked up by rowid batch by batch
(listed_batch_query).
"""

import datetime
import json
from dataclasses import replace
from typing import Optional

from .functions import FOLD_FUNCTION, fold
from .schema import (
    LIVE_ROWS,
    SEARCHED_COLUMNS,
    STATE_TABLE,
    quote_identifier,
    sort_index_name,
)
from .selection import VALUELESS_OPERATORS, Filter, Position, Search, Selection, Sort


def matches_query(search: Search, most: int):
    """SQL and parameters for how many rows of the whole table the index matches, counting
    at most `most` + 1, and their rowids as a JSON array: `(count, rowids)`."""
    fts = quote_identifier(search.fts_table)
    sql = (
        f"SELECT count(*), json_group_array(rowid) FROM"
        f" (SELECT rowid FROM {fts} WHERE {fts} MATCH :search LIMIT :most + 1)"
    )
    return sql, {"search": search.match, "most": most}


def _like_literal(text):
    """Text as a LIKE pattern that matches it literally: `%`, `_` and the escape character
    itself are escaped (with ESCAPE '\\'), so `50%` looks for "50%", not "50" and more."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Each operator's SQL, `{c}` the column and `{p}` its parameter, as Datasette's filters write
# them; the LIKE ones match the value literally (see filter_sql).
_FILTER_SQL = {
    "exact": "{c} = {p}",
    "not": "{c} != {p}",
    "gt": "{c} > {p}",
    "gte": "{c} >= {p}",
    "lt": "{c} < {p}",
    "lte": "{c} <= {p}",
    "contains": "{c} LIKE {p} ESCAPE '\\'",
    "notcontains": "{c} NOT LIKE {p} ESCAPE '\\'",
    "startswith": "{c} LIKE {p} ESCAPE '\\'",
    "endswith": "{c} LIKE {p} ESCAPE '\\'",
    "like": "{c} LIKE {p}",
    "notlike": "{c} NOT LIKE {p}",
    "glob": "{c} GLOB {p}",
    "in": "{c} IN (SELECT value FROM json_each({p}))",
    "notin": "{c} NOT IN (SELECT value FROM json_each({p}))",
    "isnull": "{c} IS NULL",
    "notnull": "{c} IS NOT NULL",
    "isblank": "({c} IS NULL OR {c} = '')",
    "notblank": "({c} IS NOT NULL AND {c} != '')",
}
_LIKE_PATTERNS = {
    "contains": "%{}%",
    "notcontains": "%{}%",
    "startswith": "{}%",
    "endswith": "%{}",
}


def filter_sql(flt: Filter, name: str, indexed: bool):
    """One filter as `(condition, parameters)`, its parameter called `name`.

    Unless `indexed`, the column is written `+column`: the unary plus keeps SQLite from
    reading the rows through that column's index, so that the plan chosen for the selection
    (the sort's index, or the driving filter's: see Selection.driving_filter) is the one run.
    `date` is a UTC day: `date(created_at)` says which day a timestamp falls on in UTC,
    whatever form it is in, and the range around it, a day wider on each side than any
    offset moves a timestamp, lets an index find the candidates first."""
    column = quote_identifier(flt.column)
    c = column if indexed else "+" + column
    p = ":" + name
    if flt.operator == "date":
        day = datetime.date.fromisoformat(flt.value)
        params = {
            name: flt.value,
            name + "_from": (day - datetime.timedelta(days=1)).isoformat(),
            name + "_before": (day + datetime.timedelta(days=2)).isoformat(),
        }
        sql = f"{c} >= :{name}_from AND {c} < :{name}_before AND date({column}) = {p}"
        return sql, params
    sql = _FILTER_SQL[flt.operator].format(c=c, p=p)
    if flt.operator in VALUELESS_OPERATORS:
        return sql, {}
    if flt.operator in _LIKE_PATTERNS:
        value = _LIKE_PATTERNS[flt.operator].format(_like_literal(flt.value))
    elif flt.operator in ("in", "notin"):
        value = json.dumps(list(flt.value))
    else:
        value = flt.value
    return sql, {name: value}


def _filter_conditions(selection: Selection, unordered=False):
    where, params = [], {}
    for index, flt in enumerate(selection.filters):
        # A filter on the sort's own column bounds the walk of that index, so it stays usable;
        # a read in no order (`unordered`) may use any of them.
        indexed = index == selection.driving_filter or flt.column == selection.sort.column
        indexed = indexed or unordered
        sql, filter_params = filter_sql(flt, f"filter_{index}", indexed)
        where.append(sql)
        params.update(filter_params)
    return where, params


def _source(selection: Selection):
    """The table, read through the driving filter's index when the plan has one, or in
    storage order when it scans: INDEXED BY and NOT INDEXED make the plan the one chosen
    (SQLite would otherwise often walk the sort's index, which reads the whole organisation
    for a filter that keeps few rows, each row a read at random)."""
    table = quote_identifier(selection.table)
    if selection.scan:
        return f"{table} NOT INDEXED"
    if selection.driving_filter is None:
        return table
    column = selection.filters[selection.driving_filter].column
    return f"{table} INDEXED BY {quote_identifier(sort_index_name(selection.table, column))}"


def table_rows_query(table):
    """SQL for about how many rows `table` holds, whatever organisation: its largest rowid,
    one seek. Deleted rows may leave gaps below it; a scan reads about that many."""
    return f"SELECT coalesce(max(rowid), 0) FROM {quote_identifier(table)}", {}


def filter_count_query(selection: Selection, index: int, most: int):
    """SQL and parameters for how many of the organisation's live rows the filter `index`
    keeps, counting at most `most` + 1: a walk of that column's index alone (it holds live
    rows only), no table row read."""
    flt = selection.filters[index]
    driving = replace(selection, driving_filter=index)
    condition, params = filter_sql(flt, "filter", indexed=True)
    params.update(org_id=selection.org_id, most=most)
    rows = (
        f"SELECT 1 FROM {_source(driving)} WHERE org_id = :org_id AND {LIVE_ROWS} AND {condition}"
    )
    return f"SELECT count(*) FROM ({rows} LIMIT :most + 1)", params


def _conditions(selection: Selection, unordered=False):
    """The WHERE of every query: one organisation, live rows, the flagged filter, the column
    filters (see _filter_conditions), the search (by its listed matches when it has them)."""
    search = selection.search
    rowids = None if search is None else search.matches
    # With the rows listed, the unary + keeps SQLite from walking the organisation's index,
    # so that it looks the listed rows up by rowid instead (and sorts them).
    where = [
        "+org_id = :org_id" if rowids is not None else "org_id = :org_id",
        LIVE_ROWS,
    ]
    params = {"org_id": selection.org_id}
    if selection.flagged is not None:
        where.append("flagged = :flagged")
        params["flagged"] = int(selection.flagged)
    filter_where, filter_params = _filter_conditions(selection, unordered)
    where += filter_where
    params.update(filter_params)
    if rowids is not None:
        where.append("rowid IN (SELECT value FROM json_each(:rowids))")
        params["rowids"] = rowids
    elif search is not None and search.uses_index:
        fts = quote_identifier(search.fts_table)
        where.append(f"rowid IN (SELECT rowid FROM {fts} WHERE {fts} MATCH :search)")
        params["search"] = search.match
    elif search is not None:
        checks = [f"instr({FOLD_FUNCTION}({c}), :search) > 0" for c in SEARCHED_COLUMNS]
        where.append("(" + " OR ".join(checks) + ")")
        params["search"] = fold(search.term)
    return where, params


def count_query(selection: Selection, limit: Optional[int] = None):
    """How many rows the selection holds, counting at most `limit` (an index range scan)."""
    where, params = _conditions(selection)
    rows = f"SELECT 1 FROM {_source(selection)} WHERE {' AND '.join(where)}"
    if limit is None:
        return f"SELECT count(*) FROM ({rows})", params
    params["count_limit"] = limit
    return f"SELECT count(*) FROM ({rows} LIMIT :count_limit)", params


def _row_at(column, part, offset):
    # The part's rows are in the order the export writes them: one short scan of a table that
    # already holds the batch.
    return f"(SELECT {column} FROM {part} LIMIT 1 OFFSET {offset})"


def _walks(sort: Sort, after: Optional[Position], until: Optional[Position] = None):
    """The index walks of one batch, in order: `(name, conditions, ORDER BY, parameters)`.

    Rows with a value in the sort column ("dated", after the default sort's column) and rows
    without ("undated") are walked apart, since a row-value comparison is false for NULL; a
    batch reads on from the walk it is in into the next. Where SQLite's own order already puts
    NULLs where the sort wants them (NULL is the least value: last when descending), the first
    batch is one walk of everything. With `until`, the batch ends at that row (included): the
    walks stop in its phase, the last one bounded by it.
    """
    column = quote_identifier(sort.column)
    direction = "DESC" if sort.descending else "ASC"
    beyond = "<" if sort.descending else ">"
    within = ">=" if sort.descending else "<="
    by_value = f"{column} {direction}, id {direction}"
    phases = ["dated", "undated"] if sort.nulls_last else ["undated", "dated"]
    if after is None and until is None and sort.nulls_last == sort.descending:
        return [("batch", [], by_value, {})]
    if after is None:
        start, bound = 0, {}
    elif after.value is None:
        start, bound = phases.index("undated"), {"after_id": after.id}
    else:
        start, bound = phases.index("dated"), {"after_id": after.id, "after_value": after.value}
    end = len(phases) if until is None else phases.index(_phase(until)) + 1
    walks = []
    for phase in phases[start:end]:
        last = until is not None and phase == _phase(until)
        params = dict(bound)
        if phase == "dated":
            if bound:
                conditions = [f"({column}, id) {beyond} (:after_value, :after_id)"]
            else:
                conditions = [f"{column} IS NOT NULL"]
            if last:
                conditions.append(f"({column}, id) {within} (:until_value, :until_id)")
                params.update(until_value=until.value, until_id=until.id)
            walks.append(("dated", conditions, by_value, params))
        else:
            conditions = [f"{column} IS NULL"] + ([f"id {beyond} :after_id"] if bound else [])
            if last:
                conditions.append(f"id {within} :until_id")
                params.update(until_id=until.id)
            walks.append(("undated", conditions, f"id {direction}", params))
        bound = {}  # only the walk the batch starts in is bounded
    return walks


def _phase(position: Position):
    return "undated" if position.value is None else "dated"


def batch_query(
    selection: Selection,
    row_sql: str,
    limit: int,
    after: Optional[Position] = None,
    separator=b"",
    look_ahead=False,
    until: Optional[Position] = None,
):
    """SQL and parameters for the `limit` rows that follow `after` (or the first `limit`), and
    with `until` none past that row.

    The query returns one row for the whole batch: the row count, the sort value and `id` of
    the last row, and the rows' encodings (`row_sql`) joined by `separator`, as one BLOB per
    index walk (two when the batch runs from rows with a sort value into rows without).
    With `look_ahead` the walks read one row more, so that a page knows whether another
    follows without a second query: the count then says `limit + 1`, the encodings hold the
    extra row last, and the sort value and `id` are still those of row `limit`.
    One row, so that SQLite walks, encodes and joins the whole batch without coming back to
    Python (and its GIL) per row.

    Each index walk is a MATERIALIZED common table expression: SQLite writes its rows to a
    temporary table once and the aggregates read them in place. (A plain subquery runs as a
    co-routine whose every text value is copied into a fresh allocation as it is read; SQLite
    allocations take one process-wide lock, so that copying is what kept concurrent exports
    from using more than one core.) Rows go into the table in the walk's order, and `group_concat`
    and the last-row lookups read them back in that order.
    """
    table = _source(selection)
    sort_column = quote_identifier(selection.sort.column)
    where, params = _conditions(selection)
    params.update(limit=limit, separator=separator, ahead=int(look_ahead))
    walks = _walks(selection.sort, after, until)
    names = [name for name, *_ in walks]
    parts = []
    for index, (name, extra, order, bound) in enumerate(walks):
        params.update(bound)
        # The second walk runs only as far as the first fell short of the batch.
        part_limit = ":limit + :ahead"
        if index:
            part_limit += f" - (SELECT count(*) FROM {names[0]})"
        parts.append(
            f"{name} AS MATERIALIZED (SELECT {row_sql} AS encoded_row, {sort_column} AS sort_value,"
            f" id FROM {table} WHERE {' AND '.join(where + extra)} ORDER BY {order}"
            f" LIMIT {part_limit})"
        )
    counts = [f"(SELECT count(*) FROM {name})" for name in names]
    # The batch's last row is row number min(count, limit), 1 being the first.
    last = f"min({' + '.join(counts)}, :limit)"
    if len(names) == 1:
        last_value, last_id = (
            _row_at(column, names[0], f"{last} - 1") for column in ("sort_value", "id")
        )
    else:
        # It stands in the first walk if that holds enough rows, else in the second.
        last_value, last_id = (
            f"CASE WHEN {last} <= {counts[0]} THEN {_row_at(column, names[0], f'{last} - 1')}"
            f" ELSE {_row_at(column, names[1], f'{last} - {counts[0]} - 1')} END"
            for column in ("sort_value", "id")
        )
    # Each part's rows joined; fetch_batch joins the parts, so no batch-sized string is copied
    # in SQL to do it.
    encoded = ", ".join(
        f"CAST((SELECT group_concat(encoded_row, :separator) FROM {name}) AS BLOB)"
        for name in names
    )
    sql = f"WITH {', '.join(parts)} SELECT {' + '.join(counts)}, {last_value}, {last_id}, {encoded}"
    return sql, params


def boundary_query(selection: Selection, step: int, after: Optional[Position] = None):
    """SQL and parameters for the `step`-th index entry after `after` (or from the first):
    one row, `(sort value, id)`, or none when fewer entries are left.

    It walks the sort's `(org_id, column, id)` index alone, keys and no table row (the index
    holds live rows only; `flagged` is not checked, nor anything encoded), and skips with
    OFFSET, which steps the index cursor without producing rows: a small fraction of a batch's cost
    (docs/benchmarks.md#parallel-batches). Its walks are the batches' (see _walks), one
    UNION ALL arm each; the LIMIT 1 of the compound stops SQLite after the first arm that
    finds the entry, so the second arm (which skips what the first walk held) runs only where
    the walk goes from rows with a sort value to rows without.
    """
    table = quote_identifier(selection.table)
    column = quote_identifier(selection.sort.column)
    params = {"org_id": selection.org_id, "step": step}
    arms, first_where = [], None
    for _name, extra, order, bound in _walks(selection.sort, after):
        params.update(bound)
        where = " AND ".join(["org_id = :org_id", LIVE_ROWS] + extra)
        offset = ":step - 1"
        if first_where is None:
            first_where = where
        else:
            held = f"SELECT 1 FROM {table} WHERE {first_where} LIMIT :step"
            offset += f" - (SELECT count(*) FROM ({held}))"
        arms.append(
            f"SELECT * FROM (SELECT {column} AS sort_value, id FROM {table} WHERE {where}"
            f" ORDER BY {order} LIMIT 1 OFFSET {offset})"
        )
    return " UNION ALL ".join(arms) + " LIMIT 1", params


def _order_by(sort: Sort):
    """The sort as an ORDER BY, for the queries that sort rows rather than walk an index."""
    direction = "DESC" if sort.descending else "ASC"
    nulls = "LAST" if sort.nulls_last else "FIRST"
    return f"{quote_identifier(sort.column)} {direction} NULLS {nulls}, id {direction}"


def match_list_query(selection: Selection):
    """SQL and parameters for the rowids of the selection's rows in its order, as one text of
    comma-separated numbers (group_concat reads the ordered subquery in its order)."""
    where, params = _conditions(selection)
    rows = (
        f"SELECT rowid FROM {_source(selection)} WHERE {' AND '.join(where)}"
        f" ORDER BY {_order_by(selection.sort)}"
    )
    return f"SELECT group_concat(rowid) FROM ({rows})", params


def listed_batch_query(selection: Selection, row_sql: str, rowids: str, separator=b""):
    """SQL and parameters for one listed batch: the rows of the JSON array `rowids` that are
    still the selection's (its organisation's, live, flagged as asked), encoded in the
    array's order and joined, as `(count, encodings)`.

    CROSS JOIN makes SQLite read the array first and look each row up in turn, so rows go
    into the batch's table in the array's order (the list's, already sorted): no sort."""
    where, params = _conditions(replace(selection, search=None, driving_filter=None))
    params.update(rowids=rowids, separator=separator)
    table = quote_identifier(selection.table)
    sql = (
        f"WITH batch AS MATERIALIZED (SELECT {row_sql} AS encoded_row"
        f" FROM (SELECT value AS listed_rowid FROM json_each(:rowids))"
        f" CROSS JOIN {table} ON {table}.rowid = listed_rowid WHERE {' AND '.join(where)})"
        f" SELECT count(*), CAST(group_concat(encoded_row, :separator) AS BLOB) FROM batch"
    )
    return sql, params


def facet_query(selection: Selection, column: str, size: int, by_day=False):
    """SQL and parameters for a facet: the selection's rows counted by `column`'s value (by
    its UTC day with `by_day`), NULLs left out, the most common first, then by value, at most
    `size` + 1 (one more says the list is truncated).

    A facet reads rows in no order, so no sort's index need lead. With a filter an index
    serves (and no driving filter), SQLite reads the rows of the range it finds narrowest and
    takes the value from each. With none, `column IS NOT NULL`, a range of the column's own
    index (NULL sorts first), leads it to count on that index alone; it would otherwise pick
    any index on org_id and read the value from every row. `date(column)` names no index."""
    quoted = quote_identifier(column)
    narrowed = selection.driving_filter is None and any(f.indexed for f in selection.filters)
    where, params = _conditions(selection, unordered=narrowed)
    # The unary plus (a no-op on any value) hides the column's index from SQLite, which would
    # otherwise walk it for its order, to group without sorting, however many rows it reads.
    facet_column = "+" + quoted if narrowed else quoted
    where.append(f"{facet_column} IS NOT NULL")
    value = f"date({quoted})" if by_day else facet_column
    if by_day:
        where.append(f"{value} IS NOT NULL")
    params["facet_size"] = size
    sql = (
        f"SELECT {value} AS value, count(*) AS count FROM {_source(selection)}"
        f" WHERE {' AND '.join(where)}"
        f" GROUP BY value ORDER BY count DESC, value LIMIT :facet_size + 1"
    )
    return sql, params


# A facet of an organisation, nothing else narrowing it, on the facet column's own index:
# each value found by a seek past the last one, then its range of entries counted on the
# index alone. No row is read and nothing is grouped in a temporary table (facet_query's
# GROUP BY): faster while the values are few beside the entries (RANGE_FACET_VALUES). By
# day, on a mirror whose timestamps are canonical, a UTC day is the range from the text of
# the day, `d`, up to the next day's, `date(d, '+1 day')`.
_RANGE_FACET_SQL = """WITH RECURSIVE facet_values(v, n) AS (
    SELECT {first}, 1 FROM {table}
    WHERE org_id = :org_id AND {live} AND {column} IS NOT NULL
    UNION ALL
    SELECT (SELECT {first} FROM {table}
            WHERE org_id = :org_id AND {live} AND {column} {after}), n + 1
    FROM facet_values WHERE v IS NOT NULL AND n <= :most_values
)
{select}"""
_RANGE_FACET_COUNTS = """SELECT v AS value, (SELECT count(*) FROM {table}
                    WHERE org_id = :org_id AND {live} AND {within}) AS count
FROM facet_values WHERE v IS NOT NULL ORDER BY count DESC, value LIMIT :facet_size + 1"""
_RANGE_FACET_SHAPES = {  # by_day: (the first value, past the last one, within one)
    False: ("min({c})", "> v", "{c} = v"),
    True: (
        "substr(min({c}), 1, 10)",
        ">= date(v, '+1 day')",
        "{c} >= v AND {c} < date(v, '+1 day')",
    ),
}
# The most values a range facet finds before facet_query's GROUP BY costs less: a value costs
# two seeks (about 5 µs), an entry grouped about 0.1 µs more than one counted.
RANGE_FACET_VALUES = 1_000


def _range_facet_sql(selection: Selection, column: str, by_day: bool, select: str):
    first, after, within = _RANGE_FACET_SHAPES[by_day]
    table, quoted = quote_identifier(selection.table), quote_identifier(column)
    select = select.format(table=table, live=LIVE_ROWS, within=within.format(c=quoted))
    return _RANGE_FACET_SQL.format(
        table=table,
        live=LIVE_ROWS,
        column=quoted,
        first=first.format(c=quoted),
        after=after,
        select=select,
    )


def range_facet_values_query(selection: Selection, column: str, by_day: bool):
    """SQL and parameters for how many values (or days) range_facet_query would count, up to
    RANGE_FACET_VALUES + 1: seeks alone."""
    select = "SELECT count(*) FROM facet_values WHERE v IS NOT NULL"
    sql = _range_facet_sql(selection, column, by_day, select)
    return sql, {"org_id": selection.org_id, "most_values": RANGE_FACET_VALUES}


def range_facet_query(selection: Selection, column: str, size: int, by_day: bool):
    """facet_query's facet of `column`, as _RANGE_FACET_SQL counts it: for a selection of one
    organisation's live rows and nothing else, on the column's index (by day: a mirror of
    canonical timestamps), when range_facet_values_query finds few enough values."""
    sql = _range_facet_sql(selection, column, by_day, _RANGE_FACET_COUNTS)
    params = {"org_id": selection.org_id, "facet_size": size, "most_values": RANGE_FACET_VALUES}
    return sql, params


def timestamps_form_queries(table: str):
    """SQL for whether the mirror has a state table, then for the form its state says `table`'s
    timestamps are in (see mirror/state.py)."""
    exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :state_table"
    form = f"SELECT timestamps FROM {quote_identifier(STATE_TABLE)} WHERE sellers_table = :table"
    return (exists, {"state_table": STATE_TABLE}), (form, {"table": table})
