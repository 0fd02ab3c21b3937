"""What is asked of the engine, on every surface: which sellers, in which order.

`Criteria` is a request's wish as parsed from its parameters (the HTTP query string, the
command line's options), before an organisation is settled; `Selection` is what the queries
read: one table, one organisation, the search with its plan. Parsing is strict, since a
misspelt filter must never export everything.
"""

from dataclasses import dataclass, replace
from typing import Optional

from .schema import COLUMN_TYPES, SORTABLE_COLUMNS

TRIGRAM = 3
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


class ParameterError(Exception):
    """A parameter the request cannot be served with; the message says how to fix it."""


@dataclass(frozen=True)
class Sort:
    """An order of the rows: by `column`, ties broken by `id` in the same direction, NULLs
    after every value (or before them, to walk an order backwards)."""

    column: str = "created_at"
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
    `batches.with_search_plan` has counted few enough, is the JSON array of the rowids the
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


@dataclass(frozen=True)
class Selection:
    """Which rows, in which order: the live sellers of one organisation, optionally only
    (un)flagged ones, optionally only those a `Search` matches."""

    table: str
    org_id: str
    flagged: Optional[bool] = None
    search: Optional[Search] = None
    sort: Sort = DEFAULT_SORT


@dataclass(frozen=True)
class Criteria:
    """What a request asks for: an organisation (None: the actor's own), the flagged filter,
    a search term and an order."""

    org_id: Optional[str] = None
    flagged: Optional[bool] = None
    search: Optional[str] = None
    sort: Sort = DEFAULT_SORT

    @property
    def filtered(self):
        return self.flagged is not None or self.search is not None

    def selection(self, table, org_id, fts_table=None) -> Selection:
        """These criteria on `table`, for the organisation settled on (see
        permissions.resolve_org), searched through `fts_table` when there is one."""
        search = None if self.search is None else Search(self.search, fts_table)
        return Selection(table, org_id, self.flagged, search, self.sort)

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


def parse_criteria(values: dict) -> Criteria:
    """Criteria from parameters named as on Datasette's table pages: `org_id`, `flagged`,
    `q`, `_sort`, `_sort_desc`. An empty value is no choice, as a form's empty field."""
    return Criteria(
        org_id=values.get("org_id") or None,  # an empty org picker: "my own organisation"
        flagged=parse_flagged(values.get("flagged")),
        search=values.get("q") or None,
        sort=parse_sort(values.get("_sort"), values.get("_sort_desc")),
    )
