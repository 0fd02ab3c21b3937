"""One place resolves a request to the sellers, for every view: the method, the configuration,
the actor's access, the parameters, the organisation and the paging position. Whatever stops
it is a RequestError, which each view turns into Datasette's JSON error or its HTML page."""

import logging
from dataclasses import dataclass
from typing import Optional

from datasette import Forbidden, NotFound
from datasette.database import QueryInterrupted
from datasette.utils.asgi import BadRequest, Response
from datasette.utils.sqlite import sqlite3  # Datasette's: pysqlite3 when installed
from datasette.views.base import DatasetteError

from .. import events, permissions
from ..config import Config, get_config
from ..engine import database
from ..engine.batches import Execute
from ..engine.plans import plan_selection
from ..engine.selection import Criteria, ParameterError, Selection, parse_criteria
from ..permissions import READ, Access, ScopeError, access_for, resolve_org
from .facets import FACET_PARAMETERS, FACET_SIZE_PARAMETER, parse_facets
from .params import parse_bom, parse_query_string, parse_size
from .tokens import FIRST_PAGE, PageStart, TokenError, decode_token, token_key

log = logging.getLogger("datasette_seller_export")
DATABASE_ERRORS = (sqlite3.Error, QueryInterrupted)
# The parameters a view may accept beyond the criteria, each parsed here.
PAGING_PARAMETERS = ("_size", "_next")
BOM_PARAMETER = "_bom"
# What an actor without the read action is told, by why (permissions.refusal).
_REFUSED = {
    permissions.NOT_SIGNED_IN: (
        f"Permission denied: sign in first (the sellers need the {READ} action)"
    ),
    permissions.NO_PERMISSION: f"Permission denied: this needs the {READ} action",
    permissions.TOKEN_RESTRICTED: (
        f"Permission denied: this API token's restrictions leave out {READ}; use a token"
        f" that allows it (datasette create-token ... --all {READ})"
    ),
}


class RequestError(Exception):
    """Why a request cannot be answered: its status, a message that says what to fix, any
    headers the answer needs, and for a refusal (403) why, one of the reasons in permissions."""

    def __init__(self, status, message, headers=None, refusal=None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.refusal = refusal

    def json_response(self) -> Response:
        """Datasette's JSON error shape, for the exports and the API."""
        return Response.error([str(self)], self.status, headers=self.headers or None)

    def raise_html(self):
        """Datasette's own HTML error pages, for a person in a browser."""
        if self.status == 403:
            raise Forbidden(str(self))
        if self.status == 404:
            raise NotFound(str(self))
        if self.status == 400:
            raise BadRequest(str(self))
        raise DatasetteError(str(self), status=self.status)


def database_error(error: Exception, datasette) -> RequestError:
    """A database failure met before the first byte, classified and logged: the same for the
    exports, the API and the browse page."""
    message = str(error)
    log.warning(
        "reading the sellers failed before the first byte: %s: %s", type(error).__name__, message
    )
    if isinstance(error, QueryInterrupted):
        limit = datasette.setting("sql_time_limit_ms")
        return RequestError(
            503, f"A batch query took longer than sql_time_limit_ms ({limit} ms); try again"
        )
    if isinstance(error, sqlite3.OperationalError) and ("locked" in message or "busy" in message):
        return RequestError(
            503,
            "The sellers database is locked by a writer; try again shortly",
            {"Retry-After": "1"},
        )
    return RequestError(500, f"The sellers database could not be read: {message}")


@dataclass(frozen=True)
class SellerRequest:
    """A request resolved: what to read, for whom, and how to page through it."""

    config: Config
    access: Access
    values: dict  # the query parameters as given, each at most once
    criteria: Criteria
    selection: Optional[Selection]  # None while an organisation is to be chosen, or NO_ORG
    execute: Execute  # the engine's queries, on Datasette's connections to the sellers database
    token_key: bytes
    size: Optional[int] = None  # for paged views
    start: PageStart = FIRST_PAGE  # where the page starts
    bom: bool = False
    facets: tuple = ()  # (column, by_day) pairs, for views that facet
    facet_size: int = 0


# How a view needs the organisation resolved.
ONE_ORG = "one"  # exactly one, or a refusal
CHOOSE_ORG = "choose"  # one, or None where the actor must still choose (the browse page's picker)
NO_ORG = "none"  # none: the view is about the actor's organisations themselves


async def resolve_request(
    datasette, request, accepts=(), scope=ONE_ORG, for_export=False, faceted=False
) -> SellerRequest:
    """The checks every seller view makes, in order: method, configuration, permission,
    parameters, organisation, paging token; then the search's plan, for a page or, with
    `for_export`, a whole export (see plans.plan_selection). `accepts` names the
    parameters the view takes beyond the criteria (which a NO_ORG view does not take), each
    once; a `faceted` view takes `_facet`, `_facet_date` and `_facet_size` too. A refusal
    is sent as a `seller-access-denied` event.
    """
    try:
        return await _resolve(datasette, request, accepts, scope, for_export, faceted)
    except RequestError as error:
        if error.refusal is not None:
            events.refused(datasette, request, error.refusal)
        raise


async def _resolve(datasette, request, accepts, scope, for_export, faceted) -> SellerRequest:
    if request.method not in ("GET", "HEAD"):
        raise RequestError(
            405,
            f"Method {request.method} is not allowed here: use GET (or HEAD)",
            {"Allow": "GET, HEAD"},
        )
    config = get_config(datasette)
    if config.database is None:
        raise RequestError(404, config.idle_reason)
    try:
        access = await access_for(datasette, request.actor)  # reads the memberships table
    except DATABASE_ERRORS as error:
        raise database_error(error, datasette) from None
    if not access.can_read:
        refusal = await permissions.refusal(datasette, request.actor)
        raise RequestError(403, _REFUSED[refusal], refusal=refusal)
    try:
        if faceted:
            accepts = (*accepts, FACET_SIZE_PARAMETER)
        values, criteria_pairs = parse_query_string(
            request.query_string,
            accepts,
            FACET_PARAMETERS if faceted else (),
            criteria=scope != NO_ORG,
        )
        criteria = parse_criteria(criteria_pairs)
        selection = None if scope == NO_ORG else _selection(config, access, criteria, scope)
        bom = parse_bom(values.get(BOM_PARAMETER))
        size = None
        if "_size" in accepts:
            size = parse_size(
                values.get("_size"),
                datasette.setting("default_page_size"),
                datasette.setting("max_returned_rows"),
            )
        facets, facet_size = (), 0
        if faceted:
            facets, facet_size = parse_facets(
                values,
                datasette.setting("default_facet_size"),
                datasette.setting("max_returned_rows"),
            )
        key = token_key(datasette)
        start = FIRST_PAGE
        if values.get("_next"):
            if selection is None:
                raise ParameterError("_next needs an organisation: choose one with org_id=")
            start = decode_token(key, selection, values["_next"])
    except (ParameterError, TokenError) as error:
        raise RequestError(400, str(error)) from None
    execute = config.wrap_execute(
        database.datasette_execute(datasette, datasette.get_database(config.database))
    )
    if selection is not None and request.method != "HEAD":  # HEAD reads nothing
        limits = config.limits
        # A page or a count finds for itself whether to scan (plans.walk_or_scan).
        most, scan_rows = (
            (limits.export_matches, limits.scan_rows) if for_export else (limits.page_matches, 0)
        )
        try:
            selection = await plan_selection(execute, selection, most, scan_rows)
        except DATABASE_ERRORS as error:
            raise database_error(error, datasette) from None
    return SellerRequest(
        config=config,
        access=access,
        values=values,
        criteria=criteria,
        selection=selection,
        execute=execute,
        token_key=key,
        size=size,
        start=start,
        bom=bom,
        facets=tuple(facets),
        facet_size=facet_size,
    )


def _selection(config, access, criteria, scope) -> Optional[Selection]:
    try:
        org_id = resolve_org(access, criteria.org_id)
    except ScopeError as error:
        if scope == CHOOSE_ORG and error.status == 400:
            return None  # an organisation is to be chosen: the view shows the picker
        raise RequestError(error.status, error.message, refusal=error.refusal) from None
    return criteria.selection(config.table, org_id, config.search_index)
