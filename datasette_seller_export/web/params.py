"""The query string, parsed strictly: a misspelt parameter must never export everything. The
criteria it holds are parsed by the engine (selection.parse_criteria), as the command
line's options are."""

import urllib.parse
from typing import Optional

from ..engine.selection import DEFAULT_SORT, Criteria, ParameterError

# What chooses the rows and their order, on every surface; links carry them on.
CRITERIA_PARAMETERS = ("flagged", "org_id", "q", "_sort", "_sort_desc")


def query_pairs(criteria: Criteria):
    """The criteria as query parameters, for links that carry them on."""
    pairs = []
    if criteria.org_id is not None:
        pairs.append(("org_id", criteria.org_id))
    if criteria.flagged is not None:
        pairs.append(("flagged", "true" if criteria.flagged else "false"))
    if criteria.search is not None:
        pairs.append(("q", criteria.search))
    if criteria.sort != DEFAULT_SORT:
        pairs.append(("_sort_desc" if criteria.sort.descending else "_sort", criteria.sort.column))
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
