"""The plugin's own hook, for deployments whose memberships live outside the mirror."""

from pluggy import HookspecMarker

hookspec = HookspecMarker("datasette")


@hookspec
def seller_export_actor_orgs(datasette, actor):
    """The organisations `actor` belongs to: a list of org ids (or one id), or an awaitable
    that returns them. They are added to the actor's `org_id` and its memberships rows."""


@hookspec
def seller_export_wrap_execute(datasette):
    """A function that takes the engine's `execute` (`await execute(sql, params, **options)`,
    rows as tuples; every query of every surface goes through it) and returns one of the same
    shape, to count, time or fail the queries; or None. Read once, at startup."""
