"""Every URL the plugin answers and the renderers it offers, with the code behind each imported
on first use: Datasette asks for routes and renderers at every start, and the views bring in
the engine, the request layer and `cryptography`, which a server that never serves a seller,
or a `datasette --help`, should not pay for."""

import importlib

from datasette.utils import async_call_with_supported_arguments

EXPORT_ROUTE = r"^/export/sellers/(?P<format>csv|json|ndjson|xlsx|parquet)$"
API_PATH = "/-/sellers.json"
API_ROUTE = r"^/-/sellers\.json$"
PAGE_PATH = "/-/sellers"
PAGE_ROUTE = r"^/-/sellers$"
ORGS_ROUTE = r"^/-/sellers/orgs\.json$"
RENDERER_FORMATS = ("csv", "json", "xlsx", "parquet")
RENDERER_ROUTE = (
    r"^/(?P<database>[^/]+)/(?P<table>[^/]+)\.sellers_(?P<format>"
    + "|".join(RENDERER_FORMATS)
    + ")$"
)

_VIEWS = [
    (EXPORT_ROUTE, "web.views", "export_view"),
    (API_ROUTE, "web.views", "api_view"),
    (PAGE_ROUTE, "web.browse", "browse_view"),
    (ORGS_ROUTE, "web.orgs", "orgs_view"),
    (RENDERER_ROUTE, "web.renderers", "renderer_view"),
]


def _imported(module, name):
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def _lazy_view(module, name):
    async def view(datasette, request, scope, send, receive):
        return await async_call_with_supported_arguments(
            _imported(module, name),
            datasette=datasette,
            request=request,
            scope=scope,
            send=send,
            receive=receive,
        )

    view.__name__ = name
    return view


def routes():
    return [(regex, _lazy_view(module, name)) for regex, module, name in _VIEWS]


def _renderer(fmt):
    # Datasette passes a renderer's arguments by name, so these name exactly the ones used.
    async def can_render(datasette, request, database, table):
        can = _imported("web.renderers", "can_render")
        return await can(datasette, request, database, table, fmt)

    async def render(datasette, request, database, table):
        hand_over = _imported("web.renderers", "hand_over")
        return await hand_over(datasette, request, database, table, fmt)

    return {"extension": f"sellers_{fmt}", "render": render, "can_render": can_render}


def output_renderers():
    return [_renderer(fmt) for fmt in RENDERER_FORMATS]
