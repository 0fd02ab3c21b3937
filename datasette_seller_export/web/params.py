"""Query parameters, parsed strictly: a misspelt filter must never export everything."""

import urllib.parse
from dataclasses import dataclass
from typing import Optional

from ..engine.keyset import DEFAULT_SORT, Sort
from ..engine.schema import COLUMN_TYPES, SORTABLE_COLUMNS

# What chooses the rows and their order, on every surface; links carry them on.
FILTER_PARAMETERS = ("flagged", "org_id", "q", "_sort", "_sort_desc")
_TRUE = {"true", "1"}
_FALSE = {"false", "0"}


class ParameterError(Exception):
    """A query parameter the request cannot be served with; the message says how to fix it."""


@dataclass(frozen=True)
class Filters:
    flagged: Optional[bool] = None
    org_id: Optional[str] = None  # None: the actor's own organisation
    search: Optional[str] = None
    sort: Sort = DEFAULT_SORT

    def query_pairs(self):
        """These filters as query parameters, for links that carry them on."""
        pairs = []
        if self.org_id is not None:
            pairs.append(("org_id", self.org_id))
        if self.flagged is not None:
            pairs.append(("flagged", "true" if self.flagged else "false"))
        if self.search is not None:
            pairs.append(("q", self.search))
        if self.sort != DEFAULT_SORT:
            pairs.append(("_sort_desc" if self.sort.descending else "_sort", self.sort.column))
        return pairs


def parse_query_string(query_string: str, allowed) -> dict:
    """The parameters as a dict, refusing unknown and repeated ones."""
    values = {}
    for name, value in urllib.parse.parse_qsl(query_string, keep_blank_values=True):
        if name not in allowed:
            raise ParameterError(
                f"Unknown parameter {name!r}: this endpoint accepts {', '.join(allowed)}"
            )
        if name in values:
            raise ParameterError(f"Parameter {name!r} was given more than once: give it once")
        values[name] = value
    return values


def url_with_query(datasette, path, pairs):
    """`path` inside Datasette's base URL, with `pairs` as its query string (if any)."""
    query = urllib.parse.urlencode(pairs)
    return datasette.urls.path(path) + (f"?{query}" if query else "")


def parse_flagged(value: Optional[str]) -> Optional[bool]:
    if value is None or value == "":
        return None  # what a form's "all" choice sends
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ParameterError(f"flagged={value!r} is not understood: use true, false, 1 or 0")


def parse_sort(ascending: Optional[str], descending: Optional[str]) -> Sort:
    """`_sort=COL` (ascending) or `_sort_desc=COL`, as on Datasette's table pages."""
    if ascending and descending:
        raise ParameterError("Give _sort or _sort_desc, not both: one column orders the rows")
    column = ascending or descending
    if not column:
        return DEFAULT_SORT
    if column not in SORTABLE_COLUMNS:
        kind = "is not exported" if column in COLUMN_TYPES else "is not a column"
        raise ParameterError(
            f"Cannot sort by {column!r}: it {kind}; sort by one of {', '.join(SORTABLE_COLUMNS)}"
        )
    return Sort(column=column, descending=bool(descending))


def parse_filters(values: dict) -> Filters:
    org_id = values.get("org_id") or None  # an empty org picker means "my own organisation"
    return Filters(
        flagged=parse_flagged(values.get("flagged")),
        org_id=org_id,
        search=values.get("q") or None,  # an empty search box means no search
        sort=parse_sort(values.get("_sort"), values.get("_sort_desc")),
    )


def parse_bom(value: Optional[str]) -> bool:
    if value is None or value == "":
        return False
    if value == "1":
        return True
    raise ParameterError(f"_bom={value!r} is not understood: use _bom=1 for a byte-order mark")


def parse_size(value: Optional[str], default: int, maximum: int) -> int:
    """`_size`: a page size, `max`, or nothing for the default; capped at `maximum`."""
    if value is None or value == "":
        return min(default, maximum)
    if value == "max":
        return maximum
    if value.isascii() and value.isdigit() and int(value) > 0:
        return min(int(value), maximum)
    raise ParameterError(
        f"_size={value!r} is not understood: use a whole number from 1 to {maximum}, or max"
    )
