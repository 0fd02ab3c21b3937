"""datasette-seller-export: Datasette's hooks, each handing off to the module for its concern.

Datasette imports this module whenever any `datasette` command starts, so it imports nothing
of its own at the top but the hook specification; each hook imports its module when called,
and the routes, renderers and commands it returns import theirs on first use (routes.py,
commands.py)."""

from datasette import hookimpl
from datasette.plugins import pm

from . import hookspecs

pm.add_hookspecs(hookspecs)


@hookimpl
def register_actions(datasette):
    from .permissions import ACTIONS

    return ACTIONS


@hookimpl
def register_events(datasette):
    from .events import EVENTS

    return EVENTS


@hookimpl
def startup(datasette):
    from . import config

    return config.startup(datasette)


@hookimpl
def permission_resources_sql(datasette, actor, action):
    from . import permissions

    return permissions.raw_table_rules(datasette, actor, action)


@hookimpl
def prepare_connection(conn):
    from .engine import functions

    functions.register_functions(conn)


@hookimpl
def register_routes(datasette):
    from . import routes

    return routes.routes()


@hookimpl
def register_output_renderer(datasette):
    from . import routes

    return routes.output_renderers()


@hookimpl
def menu_links(datasette, actor):
    from .web import browse

    return browse.menu_links(datasette, actor)


@hookimpl
def table_actions(datasette, actor, database, table):
    from .web import browse

    return browse.table_actions(datasette, actor, database, table)


@hookimpl
def register_commands(cli):
    from .commands import seller_export

    cli.add_command(seller_export)
