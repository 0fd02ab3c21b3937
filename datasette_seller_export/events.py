"""Who read which organisation's sellers, and who was refused, as Datasette events.

Three events, declared with `register_events` and sent with `datasette.track_event`, for
whichever plugins record or forward them (datasette-events-db, for one). They carry the
actor, the organisation and the selection as the actor asked for it, never a value of a row
or an internal column.

An event never slows or breaks the answer: each is sent from a task of its own once the
answer is out (or the error decided), and what a recording plugin raises is logged and
swallowed.
"""

import asyncio
import logging
from dataclasses import dataclass
from typing import Optional

from datasette.events import Event

log = logging.getLogger("datasette_seller_export")

# How a whole export ended (web/streaming.send_answer).
COMPLETE = "complete"
FAILED = "failed"
DISCONNECTED = "disconnected"


@dataclass
class SellerExportEvent(Event):
    """Event name: ``seller-export``

    One whole export, sent when it ends: `rows` and `bytes` (before any content coding) are
    what it handed to the server, `outcome` is complete, failed or disconnected."""

    name = "seller-export"
    org_id: str
    format: str
    filters: dict
    rows: int
    bytes: int
    encoding: str
    outcome: str
    duration_ms: float


@dataclass
class SellerPageEvent(Event):
    """Event name: ``seller-page``

    One page of sellers, from the JSON API (`surface` api) or the browse page (browse)."""

    name = "seller-page"
    surface: str
    org_id: str
    filters: dict
    rows: int


@dataclass
class SellerAccessDeniedEvent(Event):
    """Event name: ``seller-access-denied``

    A seller surface refused the actor (403): the path, the organisation asked for with
    `org_id=` (None when none was), and why (one of the reasons in permissions)."""

    name = "seller-access-denied"
    path: str
    org_id: Optional[str]
    reason: str


EVENTS = [SellerExportEvent, SellerPageEvent, SellerAccessDeniedEvent]

# The tasks sending events, held until they end: the event loop keeps only weak references.
_sending = set()


def emit(datasette, event: Event):
    """Send `event` to the recording plugins from a task of its own."""
    task = asyncio.get_running_loop().create_task(_send(datasette, event))
    _sending.add(task)
    task.add_done_callback(_sending.discard)


async def _send(datasette, event):
    try:
        await datasette.track_event(event)
    except Exception:
        log.exception("a plugin failed to record the %s event", event.name)


def filters_asked(criteria) -> dict:
    """The selection (a selection.Criteria) as the actor asked for it, the organisation apart:
    flagged, the search term, the order (`-column` for descending), the column filters as
    typed and the chosen columns (None: all of them)."""
    # Imported here: Datasette imports this module at every start (register_events), and the
    # engine only on a seller request.
    from .engine.selection import DEFAULT_SORT

    sort = None
    if criteria.sort != DEFAULT_SORT:
        sort = ("-" if criteria.sort.descending else "") + criteria.sort.column
    narrowed = criteria.chosen_columns or criteria.dropped_columns
    return {
        "flagged": criteria.flagged,
        "q": criteria.search,
        "sort": sort,
        "filters": {f.parameter: f.text for f in criteria.filters},
        "columns": list(criteria.columns) if narrowed else None,
    }


def page_read(datasette, request, resolved, surface, rows):
    """A page of `rows` sellers shown on `surface`, unless the setting track_pages is off."""
    if resolved.config.track_pages:
        event = SellerPageEvent(
            actor=request.actor,
            surface=surface,
            org_id=resolved.selection.org_id,
            filters=filters_asked(resolved.criteria),
            rows=rows,
        )
        emit(datasette, event)


def refused(datasette, request, reason):
    emit(
        datasette,
        SellerAccessDeniedEvent(
            actor=request.actor,
            path=request.path,
            org_id=request.args.get("org_id") or None,
            reason=reason,
        ),
    )
