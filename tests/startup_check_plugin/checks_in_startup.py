"""Test-only plugin, loaded with --plugins-dir (so it starts before installed plugins): it
checks permissions in its own `startup` hook, as some plugins do, and serves what it found."""

from datasette import hookimpl
from datasette.resources import DatabaseResource, TableResource
from datasette.utils.asgi import Response

ACTOR = {"id": "someone", "org_id": "o"}
found = {}


@hookimpl
def startup(datasette):
    async def check():
        for name in datasette.databases:
            if name == "_internal":
                continue
            found[f"view-table {name}/sellers"] = await datasette.allowed(
                action="view-table", resource=TableResource(name, "sellers"), actor=ACTOR
            )
            found[f"execute-sql {name}"] = await datasette.allowed(
                action="execute-sql", resource=DatabaseResource(name), actor=ACTOR
            )

    return check


@hookimpl
def register_routes():
    async def checks(request):
        return Response.json(found)

    return [(r"^/-/test/startup-checks$", checks)]
