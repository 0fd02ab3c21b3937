"""An instance the plugin has no business with starts and serves as it would without it: an
unrelated `sellers` table, mirrors in several databases, another plugin that checks
permissions in its own startup. Real `datasette serve` processes, as a user would run them."""

import json
import os
import urllib.error
import urllib.request

import pytest
import sqlite_utils
from support.sellers import ROOT, build_sellers_db

HERE = os.path.dirname(__file__)
STARTUP_CHECK_PLUGIN = os.path.join(HERE, "startup_check_plugin")
SOMEONE = {"id": "someone", "org_id": "o"}


def shop_db(path):
    """A database with a `sellers` table of its own, nothing like the mirror."""
    db = sqlite_utils.Database(str(path))
    db["sellers"].insert_all([{"id": 1, "name": "Corner shop"}, {"id": 2, "name": "Kiosk"}])
    db.close()
    return str(path)


def get(server, path, actor=None):
    """(status, content type, body) of a GET, signed in as `actor` when given."""
    request = urllib.request.Request(server.url + path)
    if actor is not None:
        request.add_header("Cookie", "ds_actor=" + server.cookies(actor)["ds_actor"])
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.headers["content-type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], error.read().decode()


def idle_lines(server):
    return [line for line in server.output().splitlines() if "is idle" in line]


def test_an_unrelated_sellers_table_leaves_the_plugin_idle(serve, tmp_path):
    server = serve(shop_db(tmp_path / "shop.db"), "--root")
    (line,) = idle_lines(server)
    assert "database 'shop': table 'sellers' lacks the columns" in line
    assert "'database' and 'table'" in line
    # Datasette's own pages of the shop's table are as they would be without the plugin.
    status, _, body = get(server, "/shop/sellers.json?_shape=array")
    assert status == 200 and json.loads(body)[0]["name"] == "Corner shop"
    status, content_type, body = get(server, "/export/sellers/csv?org_id=o", ROOT)
    assert status == 404 and content_type.startswith("application/json")
    assert json.loads(body)["error"] in line
    status, content_type, body = get(server, "/-/sellers", ROOT)
    assert status == 404 and content_type.startswith("text/html")
    assert "is idle" in body and "lacks the columns" in body


def test_mirrors_in_several_databases_leave_it_idle_and_both_locked(serve, tmp_path):
    one = build_sellers_db(tmp_path / "staging.db", {"o": 3})
    two = build_sellers_db(tmp_path / "production.db", {"o": 3})
    server = serve(one, two, "--root")
    (line,) = idle_lines(server)
    assert "several databases (staging, production)" in line and "'database'" in line
    status, _, body = get(server, "/export/sellers/json?org_id=o", ROOT)
    assert status == 404 and "several databases" in json.loads(body)["error"]
    # Neither mirror shows its rows to an actor without read_any_org, idle or not.
    for database in ("staging", "production"):
        status, _, body = get(server, f"/{database}/sellers.json", SOMEONE)
        assert status == 403, body
        assert get(server, f"/{database}/-/query.json?sql=select+1", SOMEONE)[0] == 403


def test_the_database_setting_chooses_among_several_mirrors(serve, tmp_path):
    one = build_sellers_db(tmp_path / "staging.db", {"o": 3})
    two = build_sellers_db(tmp_path / "production.db", {"o": 3})
    server = serve(
        one, two, "--root", "-s", "plugins.datasette-seller-export.database", "production"
    )
    assert idle_lines(server) == []
    status, _, body = get(server, "/export/sellers/json?org_id=o", ROOT)
    assert status == 200 and len(json.loads(body)) == 3


@pytest.mark.parametrize("setting", ["database", "table"])
def test_a_wrong_setting_still_stops_startup(serve, tmp_path, setting):
    path = shop_db(tmp_path / "shop.db")
    with pytest.raises(RuntimeError, match="lacks the columns"):
        value = {"database": "shop", "table": "sellers"}[setting]
        serve(path, "-s", f"plugins.datasette-seller-export.{setting}", value)


def test_permission_checks_in_another_plugins_startup_are_locked(serve, tmp_path):
    mirror = build_sellers_db(tmp_path / "sellers.db", {"o": 3})
    shop = shop_db(tmp_path / "shop.db")
    server = serve(mirror, shop, "--plugins-dir", STARTUP_CHECK_PLUGIN)
    status, _, body = get(server, "/-/test/startup-checks")
    assert status == 200
    # Denied before this plugin's startup ran, as after it; the shop is not the plugin's.
    assert json.loads(body) == {
        "view-table sellers/sellers": False,
        "execute-sql sellers": False,
        "view-table shop/sellers": True,
        "execute-sql shop": True,
    }
    assert get(server, "/sellers/sellers.json", SOMEONE)[0] == 403


_IMPORTED_AT_START = """
import asyncio, json, sys
from datasette.cli import cli  # loads the installed plugins, as every datasette command does
from datasette.app import Datasette

loaded = set(sys.modules)
ds = Datasette([sys.argv[1]])
async def main():
    await ds.invoke_startup()
    assert (await ds.client.get("/-/versions.json")).status_code == 200
asyncio.run(main())
print(json.dumps({"loaded": sorted(loaded), "started": sorted(sys.modules)}))
"""
# What only a seller request, or a seller-export command, needs.
HEAVY = (
    "cryptography",
    "datasette_seller_export.cli",
    "datasette_seller_export.engine.encoders",
    "datasette_seller_export.engine.batches",
    "datasette_seller_export.engine.queries",
    "datasette_seller_export.engine.selection",
    "datasette_seller_export.engine.export",
    "datasette_seller_export.mirror.writer",
    "datasette_seller_export.web.request",
    "datasette_seller_export.web.browse",
)


@pytest.mark.served
def test_starting_datasette_imports_only_the_hooks_and_the_startup_check(tmp_path):
    import subprocess
    import sys

    mirror = build_sellers_db(tmp_path / "sellers.db", {"o": 3})
    output = subprocess.run(
        [sys.executable, "-c", _IMPORTED_AT_START, mirror],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    modules = json.loads(output)
    ours = [m for m in modules["loaded"] if m.startswith("datasette_seller_export")]
    assert sorted(ours) == [
        "datasette_seller_export",
        "datasette_seller_export.commands",
        "datasette_seller_export.hookspecs",
    ]
    assert [m for m in modules["started"] if m.startswith(HEAVY)] == []


def test_the_commands_are_there_when_asked_for():
    from support.clients import run_cli

    result = run_cli("--help")
    assert result.exit_code == 0
    for command in ("demo", "export", "import", "init", "members", "sync"):
        assert f"  {command} " in result.output
    assert run_cli("init", "--help").exit_code == 0


def test_an_instance_without_a_sellers_table_starts_without_a_word(serve, tmp_path):
    other = tmp_path / "other.db"
    sqlite_utils.Database(str(other))["things"].insert({"a": 1})
    server = serve(str(other), "--root")
    assert idle_lines(server) == []
    status, _, body = get(server, "/export/sellers/csv?org_id=o", ROOT)
    assert status == 404 and "no attached database has a 'sellers' table" in body
