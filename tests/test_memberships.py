"""An actor's organisations from its `org_id`, the memberships table and the plugin hook, on
every surface, through Datasette's client; and the memberships table locked like the raw one."""

import urllib.parse

import pytest
import pytest_asyncio
import sqlite_utils
from datasette.plugins import pm
from datasette.utils import StartupError
from support.clients import run_cli
from support.oracle import expected_export
from test_permissions import LOCKED_SETUPS, datasette_under

GRANTS = {
    "permissions": {
        "seller_collection.read": {"id": "*"},
        "seller_collection.read_any_org": {"id": ["admin", "root"]},
    }
}
ALICE = {"id": "alice", "token": "dstok"}  # what a Datasette API token's actor looks like
BOB = {"id": "bob"}  # a sign-in plugin's actor


def add_members(db_path, *memberships, table=None):
    for actor_id, *orgs in memberships:
        args = ["members", "add", db_path, actor_id, *orgs]
        result = run_cli(*args, *(["--table", table] if table else []))
        assert result.exit_code == 0, result.output


@pytest.fixture
def members_db(sellers_db):
    add_members(sellers_db, ("alice", "org-a", "org-b"), ("bob", "org-b"), ("Carol", "org-one"))
    return sellers_db


@pytest_asyncio.fixture
async def granted(make_datasette, members_db):
    return await make_datasette(members_db, config=GRANTS)


@pytest.mark.asyncio
async def test_one_membership_is_the_actors_organisation_on_every_surface(granted, members_db):
    expected = expected_export(members_db, "org-b", "json")
    response = await granted.client.get("/export/sellers/json", actor=BOB)
    assert response.status_code == 200 and response.text == expected
    api = await granted.client.get("/-/sellers.json?_size=max", actor=BOB)
    assert api.status_code == 200 and len(api.json()["rows"]) == 40
    page = await granted.client.get("/-/sellers", actor=BOB)
    assert page.status_code == 200 and "40 sellers" in page.text
    assert (
        await granted.client.get("/export/sellers/csv?org_id=org-a", actor=BOB)
    ).status_code == 403


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/export/sellers/csv", "/-/sellers.json"])
async def test_several_organisations_and_no_org_id_is_a_400_that_lists_them(granted, path):
    response = await granted.client.get(path, actor=ALICE)
    assert response.status_code == 400
    assert response.json()["error"] == (
        "Choose an organisation with org_id=: you belong to org-a, org-b"
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("org, status", [("org-a", 200), ("org-b", 200), ("org-one", 403)])
async def test_org_id_chooses_among_the_actors_organisations(granted, members_db, org, status):
    response = await granted.client.get(f"/export/sellers/ndjson?org_id={org}", actor=ALICE)
    assert response.status_code == status
    if status == 200:
        assert response.text == expected_export(members_db, org, "ndjson")
    else:
        assert "seller_collection.read_any_org" in response.json()["error"]


@pytest.mark.asyncio
async def test_actor_org_id_memberships_and_lists_combine(make_datasette, members_db):
    ds = await make_datasette(members_db, config=GRANTS)
    response = await ds.client.get("/-/sellers/orgs.json", actor={"id": "bob", "org_id": ["org-a"]})
    assert response.json() == {"ok": True, "orgs": ["org-a", "org-b"], "any_org": False}
    # A list with entries that are not org ids is read entry by entry, never widened.
    weird = {"id": "x", "org_id": ["org-one", 1, None, ["org-a"], {"org-b": 1}, ""]}
    response = await ds.client.get("/-/sellers/orgs.json", actor=weird)
    assert response.json()["orgs"] == ["org-one"]
    assert (await ds.client.get("/export/sellers/csv", actor=weird)).status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "actor",
    [
        {"id": "Alice"},
        {"id": "alice "},
        {"id": " alice"},
        {"id": "ALICE"},
        {"id": "carol"},  # the row is Carol's
        {"id": ["alice"]},
        {"id": 7},
        {"name": "alice"},
    ],
)
async def test_memberships_match_the_actor_id_exactly(granted, actor):
    response = await granted.client.get("/export/sellers/csv?org_id=org-a", actor=actor)
    assert response.status_code == 403
    orgs = await granted.client.get("/-/sellers/orgs.json", actor=actor)
    assert orgs.status_code in (200, 403)
    if orgs.status_code == 200:
        assert orgs.json()["orgs"] == []


@pytest.mark.asyncio
async def test_orgs_json(granted):
    assert (await granted.client.get("/-/sellers/orgs.json", actor=ALICE)).json() == {
        "ok": True,
        "orgs": ["org-a", "org-b"],
        "any_org": False,
    }
    assert (await granted.client.get("/-/sellers/orgs.json", actor={"id": "x"})).json() == {
        "ok": True,
        "orgs": [],
        "any_org": False,
    }
    admin = (await granted.client.get("/-/sellers/orgs.json", actor={"id": "admin"})).json()
    assert admin["any_org"] is True
    # Every organisation with a live row in the mirror (org-empty's are all soft-deleted).
    assert admin["orgs"] == sorted(["org-a", "org-b", "org-one", 'org/with "odd" id\r\n'])
    anonymous = await granted.client.get("/-/sellers/orgs.json")
    assert anonymous.status_code == 403 and anonymous.json()["ok"] is False
    bad = await granted.client.get("/-/sellers/orgs.json?org_id=org-a", actor=ALICE)
    assert bad.status_code == 400 and "Unknown parameter 'org_id'" in bad.json()["error"]


@pytest.mark.asyncio
async def test_a_member_of_several_organisations_gets_a_picker_of_exactly_those(granted):
    response = await granted.client.get("/-/sellers", actor=ALICE)
    assert response.status_code == 200
    assert "Choose an organisation" in response.text
    assert '<option value="org-a">org-a</option>' in response.text
    assert '<option value="org-b">org-b</option>' in response.text
    assert "org-one" not in response.text and "<tbody>" not in response.text
    chosen = await granted.client.get("/-/sellers?org_id=org-a", actor=ALICE)
    assert chosen.status_code == 200 and "250 sellers" in chosen.text
    assert '<option value="org-a" selected>org-a</option>' in chosen.text
    refused = await granted.client.get("/-/sellers?org_id=org-one", actor=ALICE)
    assert refused.status_code == 403


@pytest.mark.asyncio
async def test_membership_is_checked_on_every_request(granted, members_db):
    first = await granted.client.get("/-/sellers.json?org_id=org-a&_size=100", actor=ALICE)
    next_url = first.json()["next_url"]
    assert next_url
    # The operator removes alice from org-a with the command line, between two pages.
    result = run_cli("members", "remove", members_db, "alice", "org-a")
    assert result.exit_code == 0 and "1 removed" in result.output
    parsed = urllib.parse.urlsplit(next_url)
    again = await granted.client.get(f"{parsed.path}?{parsed.query}", actor=ALICE)
    assert again.status_code == 403
    assert (
        await granted.client.get("/export/sellers/csv?org_id=org-a", actor=ALICE)
    ).status_code == 403
    # org-b is now alice's only organisation, so it is chosen without org_id.
    assert (await granted.client.get("/export/sellers/csv", actor=ALICE)).status_code == 200


@pytest.fixture
def hook_plugins():
    from datasette import hookimpl

    class Plain:
        @hookimpl
        def seller_export_actor_orgs(self, datasette, actor):
            return ["org-one"] if actor and actor.get("id") == "dana" else None

    class Async:
        @hookimpl
        def seller_export_actor_orgs(self, datasette, actor):
            async def inner():
                if actor and actor.get("id") == "dana":
                    return ["org-a", 42, ""]  # what is not an org id is dropped
                return []

            return inner

    pm.register(Plain(), name="test-orgs-plain")
    pm.register(Async(), name="test-orgs-async")
    yield
    pm.unregister(name="test-orgs-plain")
    pm.unregister(name="test-orgs-async")


@pytest.mark.asyncio
async def test_the_plugin_hook_adds_organisations(granted, hook_plugins, members_db):
    dana = {"id": "dana", "org_id": "org-b"}
    response = await granted.client.get("/-/sellers/orgs.json", actor=dana)
    assert response.json()["orgs"] == ["org-a", "org-b", "org-one"]
    export = await granted.client.get("/export/sellers/csv?org_id=org-one", actor=dana)
    assert export.status_code == 200 and export.text == expected_export(
        members_db, "org-one", "csv"
    )
    assert (await granted.client.get("/-/sellers/orgs.json", actor=BOB)).json()["orgs"] == ["org-b"]


@pytest.mark.asyncio
async def test_the_memberships_table_setting(make_datasette, sellers_db):
    add_members(sellers_db, ("erin", "org-one"), table="team_members")
    ds = await make_datasette(
        sellers_db, config=GRANTS, plugin_config={"memberships_table": "team_members"}
    )
    response = await ds.client.get("/export/sellers/csv", actor={"id": "erin"})
    assert response.status_code == 200
    # Locked like the raw table.
    assert (
        await ds.client.get("/sellers/team_members.json", actor={"id": "erin"})
    ).status_code == 403


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "setup, message",
    [
        ("missing", "setting 'memberships_table': database 'sellers': no table 'nope'"),
        (
            "no org_id column",
            "setting 'memberships_table': database 'sellers': table 'nope' lacks the columns "
            "org_id",
        ),
    ],
)
async def test_a_bad_memberships_table_stops_datasette_at_startup(
    make_datasette, sellers_db, setup, message
):
    if setup == "no org_id column":
        sqlite_utils.Database(sellers_db)["nope"].insert({"actor_id": "a"})
    with pytest.raises(StartupError) as error:
        await make_datasette(sellers_db, plugin_config={"memberships_table": "nope"})
    assert message in str(error.value)


@pytest.mark.asyncio
async def test_a_broken_default_memberships_table_stops_datasette_at_startup(
    make_datasette, sellers_db
):
    sqlite_utils.Database(sellers_db)["seller_export_memberships"].insert({"who": "a"})
    with pytest.raises(StartupError) as error:
        await make_datasette(sellers_db)
    assert "memberships_table" in str(error.value) and "actor_id, org_id" in str(error.value)


MEMBERSHIP_PAGES = [
    "/sellers/seller_export_memberships",
    "/sellers/seller_export_memberships.json",
    "/sellers/seller_export_memberships.csv?_stream=on",
    "/sellers/-/query.json?sql=select+*+from+seller_export_memberships",
]


@pytest.mark.asyncio
@pytest.mark.parametrize("path", MEMBERSHIP_PAGES)
@pytest.mark.parametrize("setup", LOCKED_SETUPS)
async def test_the_memberships_table_is_locked_like_the_raw_table(
    make_datasette, members_db, path, setup
):
    ds = await datasette_under(setup, make_datasette, members_db, GRANTS)
    for actor in (ALICE, BOB, {"id": "stranger", "org_id": "org-b"}, None):
        response = await ds.client.get(path, actor=actor)
        assert response.status_code == 403, (path, actor, response.status_code)
        assert "Carol" not in response.text and "org-one" not in response.text
    admin = await make_datasette(members_db, config=GRANTS)
    assert (await admin.client.get(MEMBERSHIP_PAGES[1], actor={"id": "admin"})).status_code == 200
