"""The plugin's own hook, for deployments whose memberships live outside the mirror."""

from pluggy import HookspecMarker

hookspec = HookspecMarker("datasette")


@hookspec
def seller_export_actor_orgs(datasette, actor):
    """The organisations `actor` belongs to: a list of org ids (or one id), or an awaitable
    that returns them. They are added to the actor's `org_id` and its memberships rows."""
