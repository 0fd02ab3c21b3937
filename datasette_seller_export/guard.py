"""A guard in front of Datasette's own pages for the sellers table.

Datasette 1.0a41 turns any query parameter on a table page into a column filter, and a
parameter *name* holding a NUL character puts that NUL into the SQL text, which SQLite
refuses: a 500 on every table page (and on the renderers, which run inside the table page).
For the sellers table that is the plugin's surface, so such requests get a 400 here.
"""

import urllib.parse

from datasette.utils.asgi import Response

from .config import get_config


def _is_sellers_table_path(datasette, path):
    config = get_config(datasette)
    if config.database is None:
        return False
    table_path = datasette.urls.table(config.database, config.table)
    return path == table_path or path.startswith((table_path + ".", table_path + "/"))


def _has_nul_in_a_name(query_string: bytes):
    pairs = urllib.parse.parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return any("\x00" in name for name, _ in pairs)


def nul_parameter_guard(datasette, app):
    async def guarded(scope, receive, send):
        if (
            scope["type"] == "http"
            and _has_nul_in_a_name(scope.get("query_string", b""))
            and _is_sellers_table_path(datasette, scope["path"])
        ):
            response = Response.error(["Query parameter names cannot contain a NUL character"], 400)
            await response.asgi_send(send)
            return
        await app(scope, receive, send)

    return guarded
