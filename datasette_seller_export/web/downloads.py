"""What a download is called: a file name that says what the export holds, and the header
that gives it."""

import hashlib
import json
import re
import urllib.parse
from datetime import datetime, timezone

from ..engine.export import ExportPlan
from ..engine.schema import EXPORTED_COLUMNS
from ..engine.selection import DEFAULT_SORT

_UNSAFE_FILENAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]")
SEARCH_IN_FILENAME = 40  # characters of a search term a file name keeps
FILTERS_IN_FILENAME = 40  # characters of the filters, as typed, a file name keeps


def download_name(plan: ExportPlan) -> str:
    """`sellers-<org>[-flagged|-unflagged][-search-<term>][-where-<filters>][-columns-<n>]
    [-<digest>][-by-<column>[-desc]][-excel]-<date>.<ext>`: what the file holds, so that two
    different downloads never share a name. Filters and columns are shortened to fit a file
    name, so a digest of what they mean follows them and tells any two apart. The date is
    today's, in UTC."""
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    selection = plan.selection
    parts = ["sellers", selection.org_id]
    if selection.flagged is not None:
        parts.append("flagged" if selection.flagged else "unflagged")
    if selection.search is not None:
        parts += ["search", selection.search.term[:SEARCH_IN_FILENAME]]
    narrowed = selection.columns != EXPORTED_COLUMNS
    if selection.filters:
        typed = "-".join(f"{f.parameter}-{f.text}" for f in selection.filters)
        parts += ["where", typed[:FILTERS_IN_FILENAME]]
    if narrowed:
        parts += ["columns", str(len(selection.columns))]
    if selection.filters or narrowed:
        meaning = json.dumps([[f.key for f in selection.filters], selection.columns])
        parts.append(hashlib.sha256(meaning.encode()).hexdigest()[:8])
    if selection.sort != DEFAULT_SORT:
        parts += ["by", selection.sort.column] + (["desc"] if selection.sort.descending else [])
    if plan.bom:
        parts.append("excel")
    return "-".join(parts + [date]) + f".{plan.format.name}"


def content_disposition(plan: ExportPlan) -> str:
    """`attachment` with a filename safe in any header and, when the name needed changing to
    be safe, its exact form in RFC 6266's `filename*`."""
    exact = download_name(plan)
    safe = _UNSAFE_FILENAME_CHARACTERS.sub("_", exact)
    value = f'attachment; filename="{safe}"'
    if safe != exact:
        value += "; filename*=UTF-8''" + urllib.parse.quote(exact, safe="")
    return value
