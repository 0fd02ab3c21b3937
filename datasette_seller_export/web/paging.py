"""Pages of sellers for the JSON API and the browse page, on the export's keyset engine."""

from dataclasses import dataclass
from typing import Optional

from ..engine.encoders import FORMATS
from ..engine.keyset import Position, fetch_batch

JSON_ROW_SQL = FORMATS["json"].row_sql()


@dataclass(frozen=True)
class Page:
    rows_json: bytes  # the page's rows as JSON objects, comma-separated (no brackets)
    next_position: Optional[Position]  # None on the last page


async def fetch_page(execute, selection, size, after=None) -> Page:
    """`size` rows after `after`; a full page is followed by a one-row probe so that the last
    page says it is the last, rather than pointing to an empty one."""
    batch = await fetch_batch(execute, selection, JSON_ROW_SQL, size, after, separator=b",")
    next_position = None
    if batch.count == size:
        probe = await fetch_batch(execute, selection, "1", 1, batch.position)
        next_position = batch.position if probe.count else None
    return Page(rows_json=batch.encoded, next_position=next_position)
