"""datasette-seller-export: Datasette's hooks, each handing off to the module for its concern."""

from datasette import hookimpl

from . import config, encoders, permissions, views
from .cli import seller_export


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
    return views.routes()


@hookimpl
def register_commands(cli):
    cli.add_command(seller_export)
