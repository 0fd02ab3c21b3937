"""Bad requests and bad configuration: each gets a clear error, never a silent full export."""

import pytest
from datasette.utils import StartupError
from support.clients import run_datasette_with
from support.sellers import ROOT

from datasette_seller_export.engine.selection import ParameterError, parse_flagged
from datasette_seller_export.web.params import parse_query_string


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path,message",
    [
        ("/export/sellers/csv?org_id=org-a&flaged=true", "Unknown parameter 'flaged'"),
        ("/export/sellers/csv?org_id=org-a&flagged=maybe", "flagged='maybe'"),
        ("/export/sellers/csv?org_id=org-a&flagged=yes", "use true, false, 1 or 0"),
        ("/export/sellers/csv?org_id=org-a&flagged=true&flagged=false", "more than once"),
        ("/export/sellers/csv?org_id=org-a&org_id=org-b", "'org_id' was given more than once"),
        ("/export/sellers/json?org_id=org-a&_bom=1", "Unknown parameter '_bom'"),
        ("/export/sellers/ndjson?org_id=org-a&_bom=1", "Unknown parameter '_bom'"),
        ("/export/sellers/csv?org_id=org-a&_bom=yes", "_bom='yes'"),
        ("/export/sellers/csv?org_id=org-a&_size=10", "Unknown parameter '_size'"),
        ("/export/sellers/csv?org_id=org-a&_stream=on", "Unknown parameter '_stream'"),
    ],
)
async def test_bad_parameters_are_400_with_the_problem_named(ds, path, message):
    response = await ds.client.get(path, actor=ROOT)
    assert response.status_code == 400
    body = response.json()
    assert body["ok"] is False and body["status"] == 400 and body["errors"] == [body["error"]]
    assert message in body["error"]


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
async def test_other_methods_are_405(ds, method):
    response = await getattr(ds.client, method)("/export/sellers/csv?org_id=org-a", actor=ROOT)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json()["status"] == 405


@pytest.mark.asyncio
async def test_unknown_format_is_404(ds):
    assert (await ds.client.get("/export/sellers/xml?org_id=org-a", actor=ROOT)).status_code == 404


@pytest.mark.asyncio
async def test_permission_is_checked_before_parameters(make_datasette, sellers_db):
    ds = await make_datasette(sellers_db)
    response = await ds.client.get("/export/sellers/csv?nonsense=1")
    assert response.status_code == 403


@pytest.mark.asyncio
async def test_database_without_the_table_is_404_not_500(make_datasette, tmp_path):
    import sqlite_utils

    other = tmp_path / "other.db"
    sqlite_utils.Database(str(other))["things"].insert({"a": 1})
    ds = await make_datasette(other, root=True)
    response = await ds.client.get("/export/sellers/csv?org_id=x", actor=ROOT)
    assert response.status_code == 404
    assert "is idle: no attached database has a 'sellers' table" in response.json()["error"]


@pytest.mark.parametrize(
    "query_string,allowed,error",
    [
        ("a=1&b=2", ("a",), "Unknown parameter 'b'"),
        ("a=1&a=1", ("a",), "more than once"),
    ],
)
def test_parse_query_string_refuses(query_string, allowed, error):
    with pytest.raises(ParameterError, match=error):
        parse_query_string(query_string, allowed, criteria=False)


@pytest.mark.parametrize(
    "value,expected",
    [
        (None, None),
        ("", None),
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("False", False),
        ("0", False),
    ],
)
def test_parse_flagged(value, expected):
    assert parse_flagged(value) is expected


@pytest.mark.parametrize("value", ["maybe", "2", "t", " true", "yes", "-1"])
def test_parse_flagged_refuses(value):
    with pytest.raises(ParameterError):
        parse_flagged(value)


# --- configuration --------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "plugin_config,message",
    [
        ({"batchsize": 10}, "unknown setting 'batchsize'"),
        ({"batch_size": 0}, "'batch_size' must be a whole number from 1 to 10,000"),
        ({"batch_size": 10_001}, "'batch_size' must be a whole number from 1 to 10,000"),
        ({"batch_size": "100"}, "'batch_size' must be a whole number"),
        ({"batch_size": True}, "'batch_size' must be a whole number"),
        ({"csv_escape_formulas": "no"}, "'csv_escape_formulas' must be true or false"),
        ({"protect_raw_table": 0}, "'protect_raw_table' must be true or false"),
        ({"database": "nope"}, "'database' names 'nope', which is not attached"),
        ({"database": 3}, "'database' must be the name of an attached database"),
        ({"table": "vendors"}, "no attached database has the table 'vendors'"),
        (
            {"database": "sellers", "table": "vendors"},
            "database 'sellers': no table 'vendors'; create it with",
        ),
        ("batch_size=5", "must be a mapping"),
    ],
)
async def test_bad_configuration_stops_startup(make_datasette, sellers_db, plugin_config, message):
    with pytest.raises(StartupError, match="datasette-seller-export: ") as raised:
        await make_datasette(sellers_db, plugin_config=plugin_config)
    assert message in str(raised.value)


@pytest.mark.asyncio
async def test_a_table_missing_columns_leaves_the_plugin_idle_unless_named(
    make_datasette, tmp_path
):
    import sqlite_utils

    path = tmp_path / "sellers.db"
    sqlite_utils.Database(str(path))["sellers"].insert(
        {"id": "1", "org_id": "o", "display_name": "x"}
    )
    ds = await make_datasette(path, root=True)
    response = await ds.client.get("/export/sellers/csv?org_id=o", actor=ROOT)
    assert response.status_code == 404
    assert "lacks the columns normalized_name, platform" in response.json()["error"]
    with pytest.raises(StartupError, match="lacks the columns normalized_name, platform"):
        await make_datasette(path, plugin_config={"table": "sellers"})


@pytest.mark.asyncio
async def test_two_databases_with_the_table_need_a_choice(make_datasette, tmp_path):
    from support.sellers import build_sellers_db

    one = build_sellers_db(tmp_path / "one.db", {"o": 2})
    two = build_sellers_db(tmp_path / "two.db", {"o": 2})
    idle = await make_datasette(one, two, root=True)
    response = await idle.client.get("/export/sellers/csv?org_id=o", actor=ROOT)
    assert response.status_code == 404
    assert "several databases (one, two); choose one" in response.json()["error"]
    ds = await make_datasette(one, two, plugin_config={"database": "two"}, root=True)
    assert (await ds.client.get("/export/sellers/csv?org_id=o", actor=ROOT)).status_code == 200


OLD_PYSQLITE3 = {
    "__init__.py": "from sqlite3 import *  # noqa: F403\n"
    "from sqlite3 import dbapi2  # noqa: F401\n"
    "sqlite_version_info = (3, 31, 1)\n"
    'sqlite_version = "3.31.1"\n',
    "dbapi2.py": "from sqlite3.dbapi2 import *  # noqa: F403\n",
}


@pytest.mark.served
@pytest.mark.parametrize(
    "command",
    [["serve", "{db}", "--get", "/"], ["seller-export", "export", "{db}", "--org", "org-a"]],
    ids=["serve", "export"],
)
def test_sqlite_too_old_for_the_keyset_queries_stops_both_with_the_fix(
    sellers_db, tmp_path, command
):
    """Datasette reads through pysqlite3 when it is installed, and so do the plugin's checks:
    here a pysqlite3 whose SQLite is too old, in a process of its own."""
    args = [part.format(db=sellers_db) for part in command]
    result = run_datasette_with({"pysqlite3": OLD_PYSQLITE3}, tmp_path / "old", *args)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "SQLite 3.35.0 or newer is needed, Datasette's pysqlite3 has 3.31.1" in result.stderr
    assert "pip install -U pysqlite3-binary" in result.stderr
    assert result.stdout == ""
