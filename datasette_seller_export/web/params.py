"""The query string, parsed strictly: a misspelt parameter must never export everything. The
criteria it holds are parsed by the engine (selection.parse_criteria), as the command
line's options are."""

import urllib.parse
from typing import Optional

from ..engine.selection import (
    CRITERIA_PARAMETERS,
    DEFAULT_SORT,
    Criteria,
    ParameterError,
    is_criteria_parameter,
)

FILTERS_HINT = "column filters (COL=value, COL__OP=value)"


def query_pairs(criteria: Criteria):
    """The criteria as query parameters, for links that carry them on (the filters and the
    columns as they were typed)."""
    pairs = []
    if criteria.org_id is not None:
        pairs.append(("org_id", criteria.org_id))
    if criteria.flagged is not None:
        pairs.append(("flagged", "true" if criteria.flagged else "false"))
    if criteria.search is not None:
        pairs.append(("q", criteria.search))
    if criteria.sort != DEFAULT_SORT:
        pairs.append(("_sort_desc" if criteria.sort.descending else "_sort", criteria.sort.column))
    pairs += [(f.parameter, f.text) for f in criteria.filters]
    pairs += [("_col", c) for c in criteria.chosen_columns]
    pairs += [("_nocol", c) for c in criteria.dropped_columns]
    return pairs


def parse_query_string(query_string: str, accepts, repeatable=(), criteria=True):
    """`(values, criteria_pairs)`: the view's own parameters (`accepts`) as a dict, a list for
    the `repeatable` ones, each other one at most once; and, when the view takes `criteria`,
    the pairs for the engine's parse_criteria, which refuses what it does not know."""
    values, criteria_pairs = {name: [] for name in repeatable}, []
    for name, value in urllib.parse.parse_qsl(query_string, keep_blank_values=True):
        if name in repeatable:
            values[name].append(value)
        elif name in accepts:
            if name in values:
                raise ParameterError(f"Parameter {name!r} was given more than once: give it once")
            values[name] = value
        elif criteria and is_criteria_parameter(name):
            criteria_pairs.append((name, value))
        else:
            known = (CRITERIA_PARAMETERS if criteria else ()) + tuple(accepts) + tuple(repeatable)
            known_text = ", ".join(known) + (f" and {FILTERS_HINT}" if criteria else "")
            raise ParameterError(
                f"Unknown parameter {name!r}: this endpoint accepts {known_text or 'none'}"
            )
    return values, criteria_pairs


def path_with_query(request, pairs):
    """The request's own path with `pairs` as its query string (if any)."""
    query = urllib.parse.urlencode(pairs)
    return request.path + (f"?{query}" if query else "")


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


def parse_size(value: Optional[str], default: int, maximum: int, name="_size") -> int:
    """`_size` (or `name`: `_facet_size`): a size, `max`, or nothing for the default; capped
    at `maximum`."""
    if value is None or value == "":
        return min(default, maximum)
    if value == "max":
        return maximum
    if value.isascii() and value.isdigit() and int(value) > 0:
        return min(int(value), maximum)
    raise ParameterError(
        f"{name}={value!r} is not understood: use a whole number from 1 to {maximum}, or max"
    )
