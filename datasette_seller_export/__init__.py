"""datasette-seller-export: Datasette's hooks, each handing off to the module for its concern."""

from datasette import hookimpl
from datasette.plugins import pm

from . import config, hookspecs, permissions
from .cli import seller_export
from .engine import encoders
from .web import browse, orgs, renderers, views

pm.add_hookspecs(hookspecs)


@hookimpl
def register_actions(datasette):
    return permissions.ACTIONS


@hookimpl
def startup(datasette):
    return config.startup(datasette)


@hookimpl
def permission_resources_sql(datasette, actor, action):
    return permissions.raw_table_rules(datasette, actor, action)


@hookimpl
def prepare_connection(conn):
    encoders.register_functions(conn)


@hookimpl
def register_routes(datasette):
    return views.routes() + [
        (browse.PAGE_ROUTE, browse.browse_view),
        (orgs.ORGS_ROUTE, orgs.orgs_view),
        (renderers.RENDERER_ROUTE, renderers.renderer_view),
    ]


@hookimpl
def register_output_renderer(datasette):
    return renderers.output_renderers()


@hookimpl
def menu_links(datasette, actor):
    return browse.menu_links(datasette, actor)


@hookimpl
def table_actions(datasette, actor, database, table):
    return browse.table_actions(datasette, actor, database, table)


@hookimpl
def register_commands(cli):
    cli.add_command(seller_export)
