"""The grid's orders against a real `datasette serve` over HTTP: for every sortable column, both
ways, with and without a search and the flagged filter, the API followed to the end by its
`next_url` and each export equal the order SQLite gives directly (NULLs, ties larger than a
page, unicode)."""

import json
import urllib.parse

import httpx
import pytest
from support.oracle import expected_export, expected_rows
from support.sellers import ADMIN, build_sellers_db
from support.server import Server

from datasette_seller_export.engine.schema import SORTABLE_COLUMNS

pytestmark = pytest.mark.served

FILTERS = [{}, {"q": "LINE"}, {"q": "ü"}, {"flagged": "false", "q": "in"}]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grid-served")
    path = build_sellers_db(tmp / "sellers.db", {"org-a": 250, "org-b": 40}, seed=21)
    config = tmp / "datasette.json"
    config.write_text(
        json.dumps({"permissions": {"seller_collection.read_any_org": {"id": "admin"}}})
    )
    server = Server([path, "-c", str(config)], tmp / "server.log")
    yield server, path
    server.stop()


def follow(server, url):
    rows, cookies = [], server.cookies(ADMIN)
    while url:
        body = httpx.get(url, cookies=cookies, timeout=30).raise_for_status().json()
        rows += body["rows"]
        url = body["next_url"]
    return rows


@pytest.mark.parametrize("column", SORTABLE_COLUMNS)
@pytest.mark.parametrize("desc", [False, True])
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: urllib.parse.urlencode(f) or "all")
def test_every_order_over_http(served, column, desc, filters):
    server, path = served
    query = dict(filters, org_id="org-a", **{"_sort_desc" if desc else "_sort": column})
    flagged = {"false": False}.get(filters.get("flagged"))
    search = filters.get("q")
    expected = expected_rows(path, "org-a", flagged, search=search, sort=column, desc=desc)
    for row in expected:
        row["flagged"] = None if row["flagged"] is None else bool(row["flagged"])
    rows = follow(server, f"{server.url}/-/sellers.json?{urllib.parse.urlencode(query)}&_size=9")
    assert rows == expected
    export = httpx.get(
        f"{server.url}/export/sellers/csv?{urllib.parse.urlencode(query)}",
        cookies=server.cookies(ADMIN),
    )
    assert export.text == expected_export(
        path, "org-a", "csv", flagged=flagged, search=search, sort=(column, desc)
    )
