"""What is asked of the engine, on every surface: which sellers, in which order.

`Criteria` is a request's wish as parsed from its parameters (the HTTP query string, the
command line's options), before an organisation is settled; `Selection` is what the queries
read: one table, one organisation, the search with its plan. Parsing is strict, since a
misspelt filter must never export everything.
"""

import datetime
import json
import math
import re
from dataclasses import dataclass, field, replace
from typing import Optional

from .schema import (
    BOOLEAN_COLUMNS,
    COLUMN_TYPES,
    DEFAULT_SORT_COLUMN,
    EXPORTED_COLUMNS,
    SORTABLE_COLUMNS,
)

TRIGRAM = 3
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


class ParameterError(Exception):
    """A parameter the request cannot be served with; the message says how to fix it."""


@dataclass(frozen=True)
class Sort:
    """An order of the rows: by `column`, ties broken by `id` in the same direction, NULLs
    after every value (or before them, to walk an order backwards)."""

    column: str = DEFAULT_SORT_COLUMN
    descending: bool = True
    nulls_last: bool = True

    def reversed(self):
        """The same order read from its end: what stands before a row, nearest first."""
        return Sort(self.column, not self.descending, not self.nulls_last)


DEFAULT_SORT = Sort()


@dataclass(frozen=True)
class Search:
    """Rows whose `display_name` or `normalized_name` holds `term`, whatever its case.

    With an FTS5 trigram index (`fts_table`) and a term of three characters or more, the
    index finds the rows; otherwise each row of the organisation is checked with
    `seller_export_fold`, which folds case as the index does. `matches`, once
    `plans.with_search_plan` has counted few enough, is the JSON array of the rowids the
    index matched in the whole table.
    """

    term: str
    fts_table: Optional[str] = None
    matches: Optional[str] = None

    @property
    def uses_index(self):
        return self.fts_table is not None and len(self.term) >= TRIGRAM

    @property
    def match(self):
        """The term as an FTS5 phrase in double quotes: the trigram index matches it as a
        substring."""
        return '"' + self.term.replace('"', '""') + '"'


@dataclass(frozen=True)
class Position:
    """Where a batch ended: the sort column's value and the `id` of its last row."""

    value: object
    id: str


# Datasette's column filters, by the names its table pages use (`COL__OP=value`).
FILTER_OPERATORS = (
    "exact",
    "not",
    "contains",
    "notcontains",
    "startswith",
    "endswith",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "notin",
    "isnull",
    "notnull",
    "isblank",
    "notblank",
    "like",
    "notlike",
    "glob",
    "date",
)
# Operators that take no value: `COL__isnull=1`, as Datasette's forms send them.
VALUELESS_OPERATORS = frozenset({"isnull", "notnull", "isblank", "notblank"})
# Operators an index `(org_id, column, id)` can serve as a range of its entries.
RANGE_OPERATORS = frozenset({"exact", "gt", "gte", "lt", "lte", "in", "date"})
NUMERIC_COLUMNS = tuple(c for c in EXPORTED_COLUMNS if COLUMN_TYPES[c] in (int, float))
FILTERABLE_COLUMNS = tuple(c for c in EXPORTED_COLUMNS if c not in BOOLEAN_COLUMNS)
DATED_COLUMN = "created_at"
# What Datasette's table pages accept and this plugin refuses, each with the reason.
REFUSED_PARAMETERS = {
    "_where": "raw SQL conditions are not accepted here: filter with COL__OP=value",
    "_through": "filters through other tables are not accepted here",
}
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Filter:
    """One column filter: `column`, an operator of FILTER_OPERATORS, and its value parsed (a
    number for numeric columns, text otherwise; a tuple for `in`/`notin`; None for the
    valueless ones). `parameter` and `text` are what was typed, for links that carry it on."""

    column: str
    operator: str
    value: object
    parameter: str
    text: str

    @property
    def key(self):
        """What the filter means, whatever it was called: for tokens and repeated filters."""
        return (self.column, self.operator, self.value)

    @property
    def indexed(self):
        """Whether a sort index can read the rows it keeps as one range of its entries."""
        return self.column in SORTABLE_COLUMNS and self.operator in RANGE_OPERATORS


@dataclass(frozen=True)
class Selection:
    """Which rows, in which order: the live sellers of one organisation, optionally only
    (un)flagged ones, only those a `Search` matches and only those every `Filter` keeps;
    `columns` are the exported columns to write, in the allowlist's order.

    `driving_filter`, once `plans.with_filter_plan` has counted few enough rows for it, is
    the index of the filter whose own index reads the rows (and they are sorted). With `scan`,
    the whole table is read in storage order and the rows every filter keeps are sorted
    (plans.rows_to_scan says when). Otherwise the sort's index is walked and each filter
    checked on the rows it passes."""

    table: str
    org_id: str
    flagged: Optional[bool] = None
    search: Optional[Search] = None
    sort: Sort = DEFAULT_SORT
    filters: tuple = ()
    columns: tuple = EXPORTED_COLUMNS
    driving_filter: Optional[int] = None
    scan: bool = False

    @property
    def walks_past_rows(self):
        """Whether the sort's index is walked past rows that a filter no index serves may
        leave out, with no search (which a scan would check on every row of the table): the
        plan a scan may beat."""
        planned = self.driving_filter is not None or self.scan or self.search is not None
        return not planned and any(not flt.indexed for flt in self.filters)


@dataclass(frozen=True)
class Criteria:
    """What a request asks for: an organisation (None: the actor's own), the flagged filter,
    a search term and an order."""

    org_id: Optional[str] = None
    flagged: Optional[bool] = None
    search: Optional[str] = None
    sort: Sort = DEFAULT_SORT
    filters: tuple = ()  # of Filter
    columns: tuple = EXPORTED_COLUMNS
    # As typed, for links: `_col` and `_nocol` values.
    chosen_columns: tuple = field(default=(), compare=False)
    dropped_columns: tuple = field(default=(), compare=False)

    @property
    def filtered(self):
        """Whether fewer rows than the organisation's all are asked for."""
        return self.flagged is not None or self.search is not None or bool(self.filters)

    def selection(self, table, org_id, fts_table=None) -> Selection:
        """These criteria on `table`, for the organisation settled on (see
        permissions.resolve_org), searched through `fts_table` when there is one."""
        search = None if self.search is None else Search(self.search, fts_table)
        return Selection(table, org_id, self.flagged, search, self.sort, self.filters, self.columns)

    def with_org(self, org_id):
        return replace(self, org_id=org_id)


def parse_flagged(value: Optional[str], name="flagged") -> Optional[bool]:
    if value is None or value == "":
        return None  # what a form's "all" choice sends
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ParameterError(f"{name}={value!r} is not understood: use true, false, 1 or 0")


def parse_sort(
    ascending: Optional[str], descending: Optional[str], names=("_sort", "_sort_desc")
) -> Sort:
    """`_sort=COL` (ascending) or `_sort_desc=COL`, as on Datasette's table pages; `names`
    are what the surface calls the two, for its messages."""
    if ascending and descending:
        raise ParameterError(f"Give {names[0]} or {names[1]}, not both: one column orders the rows")
    column = ascending or descending
    if not column:
        return DEFAULT_SORT
    if column not in SORTABLE_COLUMNS:
        kind = "is not exported" if column in COLUMN_TYPES else "is not a column"
        raise ParameterError(
            f"Cannot sort by {column!r}: it {kind}; sort by one of {', '.join(SORTABLE_COLUMNS)}"
        )
    return Sort(column=column, descending=bool(descending))


def _kind(column):
    return "is not exported" if column in COLUMN_TYPES else "is not a column"


def _number(column, parameter, text):
    if not _NUMBER.fullmatch(text.strip()):
        raise ParameterError(
            f"{parameter}={text!r}: {column} is a number; give one such as 100 or 97.5"
        )
    value = float(text) if any(c in text for c in ".eE") else int(text)
    if isinstance(value, float) and not math.isfinite(value):
        raise ParameterError(f"{parameter}={text!r}: {column} takes a finite number")
    return value


def _list(parameter, text):
    """`in`/`notin`: comma-separated values, or a JSON array of strings and numbers."""
    if not text.startswith("["):
        return text.split(",") if text else []
    try:
        values = json.loads(text)
    except ValueError:
        values = None
    if not isinstance(values, list) or not all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values
    ):
        raise ParameterError(
            f"{parameter}={text!r} is not a JSON array of strings and numbers: give one such as"
            ' ["ebay","etsy"], or the values separated by commas'
        )
    return [v if isinstance(v, str) else json.dumps(v) for v in values]


def parse_filter(parameter: str, text: str) -> Filter:
    """`COL=value` (as `COL__exact`) or `COL__OP=value`, strictly: only the exported columns
    but `flagged` (which has its own parameter), only Datasette's operators, and values of the
    column's kind. A filter never names an internal column, so none can be learnt through one."""
    column, _, operator = parameter.partition("__")
    operator = operator or "exact"
    if column == "flagged" and parameter != "flagged":
        raise ParameterError(
            f"{parameter} is not accepted: flagged has its own filter, flagged=true or"
            " flagged=false"
        )
    if column not in COLUMN_TYPES and parameter == column:
        raise ParameterError(
            f"Unknown parameter {parameter!r}: it is neither a parameter nor a column; filter"
            f" by one of {', '.join(FILTERABLE_COLUMNS)}"
        )
    if column not in FILTERABLE_COLUMNS:
        raise ParameterError(
            f"Cannot filter by {column!r}: it {_kind(column)}; filter by one of"
            f" {', '.join(FILTERABLE_COLUMNS)}"
        )
    if operator not in FILTER_OPERATORS:
        raise ParameterError(
            f"{parameter}: {operator!r} is not a filter; use one of {', '.join(FILTER_OPERATORS)}"
        )
    numeric = column in NUMERIC_COLUMNS
    if operator in VALUELESS_OPERATORS:
        if text not in ("", "1", "true"):
            raise ParameterError(f"{parameter} takes no value: give {parameter}=1")
        value = None
    elif operator == "date":
        if column != DATED_COLUMN:
            raise ParameterError(f"{parameter}: __date applies to {DATED_COLUMN} only")
        try:
            value = datetime.date.fromisoformat(text) if _DAY.fullmatch(text) else None
        except ValueError:
            value = None
        if value is None:
            raise ParameterError(f"{parameter}={text!r} is not a day: give one as YYYY-MM-DD")
        value = value.isoformat()
    elif operator in ("in", "notin"):
        values = _list(parameter, text)
        value = tuple(_number(column, parameter, v) for v in values) if numeric else tuple(values)
    elif numeric and operator in ("exact", "not", "gt", "gte", "lt", "lte"):
        value = _number(column, parameter, text)
    else:
        value = text
    return Filter(column, operator, value, parameter, text)


def parse_columns(chosen=(), dropped=()) -> tuple:
    """`_col` (keep only these) and `_nocol` (drop these), in the allowlist's order whatever
    order they are named in."""
    for name in (*chosen, *dropped):
        if name not in EXPORTED_COLUMNS:
            raise ParameterError(
                f"Cannot choose column {name!r}: it {_kind(name)}; choose among"
                f" {', '.join(EXPORTED_COLUMNS)}"
            )
    columns = tuple(c for c in EXPORTED_COLUMNS if (not chosen or c in chosen) and c not in dropped)
    if not columns:
        raise ParameterError("No columns are left: _nocol drops every column _col keeps")
    return columns


# The parameters a surface passes on to parse_criteria, besides the filters.
CRITERIA_PARAMETERS = ("flagged", "org_id", "q", "_sort", "_sort_desc", "_col", "_nocol")
REPEATABLE_CRITERIA = ("_col", "_nocol")


def is_filter_parameter(name):
    """Whether a parameter's name is a column filter's (valid or not: parse_filter says)."""
    return not name.startswith("_") and name not in CRITERIA_PARAMETERS


def _is_refused(name):
    return name in REFUSED_PARAMETERS or name.startswith("_search")


def is_criteria_parameter(name):
    """Whether parse_criteria takes this name: to use it, or to refuse it with its reason."""
    return name in CRITERIA_PARAMETERS or _is_refused(name) or is_filter_parameter(name)


def parse_criteria(pairs) -> Criteria:
    """Criteria from `(name, value)` pairs named as on Datasette's table pages: `org_id`,
    `flagged`, `q`, `_sort`, `_sort_desc`, `_col`/`_nocol` (repeatable) and column filters. An
    empty value of the first five is no choice, as a form's empty field. A name of none of
    these, or one given twice (a filter twice, in any spelling), is a ParameterError."""
    values, lists, filters = {}, {name: [] for name in REPEATABLE_CRITERIA}, []
    for name, value in pairs:
        if _is_refused(name):
            reason = REFUSED_PARAMETERS.get(name, "search with q=")
            raise ParameterError(f"{name} is not accepted: {reason}")
        if name in lists:
            lists[name].append(value)
        elif is_filter_parameter(name):
            new = parse_filter(name, value)
            if any(f.column == new.column and f.operator == new.operator for f in filters):
                raise ParameterError(
                    f"The filter {new.column}__{new.operator} was given more than once:"
                    " give it once (use __in for several values)"
                )
            filters.append(new)
        elif name in CRITERIA_PARAMETERS:
            if name in values:
                raise ParameterError(f"Parameter {name!r} was given more than once: give it once")
            values[name] = value
        else:
            raise ParameterError(f"Unknown parameter {name!r}")
    return Criteria(
        org_id=values.get("org_id") or None,  # an empty org picker: "my own organisation"
        flagged=parse_flagged(values.get("flagged")),
        search=values.get("q") or None,
        sort=parse_sort(values.get("_sort"), values.get("_sort_desc")),
        filters=tuple(filters),
        columns=parse_columns(lists["_col"], lists["_nocol"]),
        chosen_columns=tuple(lists["_col"]),
        dropped_columns=tuple(lists["_nocol"]),
    )
