"""Who may export whose sellers, and the lock on Datasette's own pages for the raw table."""

import json
import os
import sqlite3

import pytest
from support.oracle import expected_export
from support.sellers import REPO

from datasette_seller_export.memberships import orgs_in_actor
from datasette_seller_export.mirror import state
from datasette_seller_export.permissions import Access, ScopeError, resolve_org

GRANTS = {
    "permissions": {
        # Every signed-in actor may read its own organisation, with or without one.
        "seller_collection.read": {"id": "*"},
        "seller_collection.read_any_org": {"id": ["admin", "root"]},
    }
}
ORG_B = {"id": "bea", "org_id": "org-b"}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "actor,query,status,org,message",
    [
        (None, "", 403, None, "seller_collection.read"),
        ({"id": "stranger"}, "", 403, None, "no org_id"),
        ({"id": "nobody", "org_id": ""}, "", 403, None, "no org_id"),
        (
            {"id": "noorg", "role": "x"},
            "?org_id=org-b",
            403,
            None,
            "seller_collection.read_any_org",
        ),
        (ORG_B, "", 200, "org-b", None),
        (ORG_B, "?org_id=org-b", 200, "org-b", None),
        (ORG_B, "?org_id=org-a", 403, None, "seller_collection.read_any_org"),
        ({"id": "admin"}, "?org_id=org-a", 200, "org-a", None),
        ({"id": "admin"}, "", 400, None, "org_id="),
        ({"id": "admin", "org_id": "org-b"}, "", 200, "org-b", None),
        ({"id": "root"}, "?org_id=org-a", 200, "org-a", None),
        ({"id": "root"}, "", 400, None, "org_id="),
    ],
)
async def test_permission_matrix(make_datasette, sellers_db, actor, query, status, org, message):
    ds = await make_datasette(sellers_db, config=GRANTS, root=True)
    response = await ds.client.get(f"/export/sellers/json{query}", actor=actor)
    assert response.status_code == status, response.text
    if status == 200:
        assert response.text == expected_export(sellers_db, org, "json")
    else:
        body = response.json()
        assert body["ok"] is False and body["status"] == status
        assert message in body["error"]


@pytest.mark.asyncio
async def test_read_any_org_alone_is_enough(make_datasette, sellers_db):
    ds = await make_datasette(
        sellers_db, config={"permissions": {"seller_collection.read_any_org": {"id": "auditor"}}}
    )
    response = await ds.client.get("/export/sellers/csv?org_id=org-a", actor={"id": "auditor"})
    assert response.status_code == 200
    assert response.text == expected_export(sellers_db, "org-a", "csv")


@pytest.mark.asyncio
async def test_without_any_grant_everyone_is_refused(make_datasette, sellers_db):
    ds = await make_datasette(sellers_db)
    for actor in (None, ORG_B, {"id": "root"}):
        response = await ds.client.get("/export/sellers/csv?org_id=org-b", actor=actor)
        assert response.status_code == 403


@pytest.mark.asyncio
async def test_root_trap_a_grant_that_leaves_root_out_denies_root(make_datasette, sellers_db):
    # Documented in the README: list root in a permissions block, or root is locked out.
    ds = await make_datasette(
        sellers_db,
        config={"permissions": {"seller_collection.read_any_org": {"id": "admin"}}},
        root=True,
    )
    response = await ds.client.get("/export/sellers/csv?org_id=org-a", actor={"id": "root"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "actor,expected",
    [
        (None, set()),
        ({}, set()),
        ({"org_id": None}, set()),
        ({"org_id": ""}, set()),
        ({"org_id": True}, set()),
        ({"org_id": {"x": 1}}, set()),
        ({"org_id": "o1"}, {"o1"}),
        ({"org_id": 7}, {"7"}),
        ({"org_id": ["a"]}, {"a"}),
        ({"org_id": ["b", "a", "b"]}, {"a", "b"}),
        # A list is read entry by entry: what is not a non-empty string is dropped, never widened.
        ({"org_id": ["a", 1, None, True, "", ["b"], {"c": 1}]}, {"a"}),
        ("not a dict", set()),
    ],
)
def test_the_actor_org_id_fails_closed(actor, expected):
    assert orgs_in_actor(actor) == expected


def test_resolve_org_never_means_all_organisations():
    for orgs in (frozenset(), frozenset({"a", "b"})):
        reader = Access(can_read=True, can_read_any_org=False, orgs=orgs)
        for requested in (None, "", "*", "%", "A", " a"):
            with pytest.raises(ScopeError):
                resolve_org(reader, requested)
    assert resolve_org(Access(True, True), "*") == "*"  # a literal org id, not a wildcard


# --- Datasette's own pages must not be a side door -------------------------------------------

RAW_PAGES = [
    "/sellers/sellers",
    "/sellers/sellers.json",
    "/sellers/sellers.json?_shape=array",
    "/sellers/sellers.csv?_stream=on",
    "/sellers/sellers.csv?_size=max",
    "/sellers/-/query?sql=select+*+from+sellers",
    "/sellers/-/query.json?sql=select+*+from+sellers",
    "/sellers.db",
    "/sellers/sellers/sid-org-b-00000-00000000",
]
EVERYONE_SEES_EVERYTHING = {
    "permissions": {
        "view-instance": True,
        "view-database": True,
        "view-table": True,
        "execute-sql": True,
        "view-database-download": True,
        "seller_collection.read": {"org_id": "*"},
    },
    "databases": {
        "sellers": {
            "permissions": {"view-table": True, "execute-sql": True},
            "tables": {"sellers": {"permissions": {"view-table": True}}},
        }
    },
}


def shipped_metadata():
    with open(os.path.join(REPO, "metadata.json")) as fp:
        return json.load(fp)


LOCKED_SETUPS = ["shipped metadata.json", "grants to everyone"]


async def datasette_under(setup, make_datasette, db_path, grants=GRANTS):
    """A Datasette under the shipped metadata.json, or under a configuration that grants
    everyone everything: the plugin's lock must hold under both."""
    if setup == "shipped metadata.json":
        return await make_datasette(db_path, metadata=shipped_metadata(), config=grants)
    return await make_datasette(db_path, config=EVERYONE_SEES_EVERYTHING)


def assert_no_seller_data(response):
    assert "sid-" not in response.text and "INTERNAL-" not in response.text


@pytest.mark.asyncio
@pytest.mark.parametrize("path", RAW_PAGES)
@pytest.mark.parametrize("setup", LOCKED_SETUPS)
async def test_raw_table_and_sql_are_refused_to_org_actors(make_datasette, sellers_db, path, setup):
    ds = await datasette_under(setup, make_datasette, sellers_db)
    for actor in (ORG_B, None):
        response = await ds.client.get(path, actor=actor)
        assert response.status_code == 403, (path, actor, response.status_code)
        assert_no_seller_data(response)
    # The plugin's own export still works for the org actor.
    own = await ds.client.get("/export/sellers/csv", actor=ORG_B)
    assert own.status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/sellers/sellers.json", "/sellers/-/query.json?sql=select+1"])
async def test_any_org_readers_may_still_use_the_raw_table(make_datasette, sellers_db, path):
    ds = await make_datasette(sellers_db, config=GRANTS)
    response = await ds.client.get(path, actor={"id": "admin"})
    assert response.status_code == 200


@pytest.mark.asyncio
async def test_shipped_metadata_lets_root_explore(make_datasette, sellers_db):
    ds = await make_datasette(sellers_db, metadata=shipped_metadata(), root=True)
    for path in ("/sellers/sellers.json", "/sellers/-/query.json?sql=select+count(*)+from+sellers"):
        assert (await ds.client.get(path, actor={"id": "root"})).status_code == 200


@pytest.mark.asyncio
async def test_protect_raw_table_false_turns_the_rule_off(make_datasette, sellers_db):
    ds = await make_datasette(sellers_db, plugin_config={"protect_raw_table": False})
    response = await ds.client.get("/sellers/sellers.json", actor=ORG_B)
    assert response.status_code == 200


SEARCH_INDEX_PAGES = [
    "/sellers/sellers_fts",
    "/sellers/sellers_fts.json",
    "/sellers/sellers_fts.json?_search=seller",
    "/sellers/sellers_fts.csv?_stream=on",
    "/sellers/sellers_fts_data.json",
    "/sellers/sellers_fts_idx.json",
    "/sellers/sellers_fts_docsize.json",
    "/sellers/sellers_fts_config.json",
    "/sellers/-/query.json?sql=select+*+from+sellers_fts",
    # The sync's state: its high-water mark is the newest change of any organisation.
    "/sellers/seller_export_state.json",
    "/sellers/seller_export_state.csv?_stream=on",
    "/sellers/-/query.json?sql=select+*+from+seller_export_state",
]


@pytest.mark.asyncio
@pytest.mark.parametrize("path", SEARCH_INDEX_PAGES)
@pytest.mark.parametrize("setup", LOCKED_SETUPS)
async def test_the_search_index_and_the_sync_state_are_locked_like_the_raw_table(
    make_datasette, sellers_db, path, setup
):
    conn = sqlite3.connect(sellers_db)
    with conn:
        state.write(conn, "sellers", high_water_mark="2031-01-01T00:00:00.000000Z")
    conn.close()
    ds = await datasette_under(setup, make_datasette, sellers_db)
    for actor in (ORG_B, None):
        response = await ds.client.get(path, actor=actor)
        assert response.status_code == 403, (path, actor, response.status_code)
        assert "Plain Seller" not in response.text and "Commas, Inc." not in response.text
        assert "2031-01-01" not in response.text
