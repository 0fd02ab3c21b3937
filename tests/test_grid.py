"""The sellers grid through Datasette's client: search, sort, pages both ways, HEAD, download
names, the count and the hints on the browse page. Every order is held against the oracle,
which sorts with SQLite directly and searches in Python."""

import json
import urllib.parse

import pytest
import pytest_asyncio
from support.clients import page_through
from support.oracle import EXPORTED, expected_export, expected_rows
from support.sellers import ROOT, build_sellers_db

from datasette_seller_export.config import Limits, replace_config
from datasette_seller_export.engine.schema import SORTABLE_COLUMNS

# Terms of three characters or more go through the trigram index; shorter ones are scanned.
# Case differs from the data on purpose, quotes and unicode included.
SEARCHES = ["SELLER", "line", '"best"', "ünï", "ü", "東京", "'s", "nothing-like-this"]
FILTERS = [{}, {"q": "o"}, {"q": "seller"}, {"flagged": "true"}, {"q": "IN", "flagged": "false"}]
SORTS = [(column, desc) for column in SORTABLE_COLUMNS for desc in (False, True)]


def sort_pairs(column, desc):
    return [("_sort_desc" if desc else "_sort", column)]


def oracle(db, org, filters, column="created_at", desc=True):
    flagged = {"true": True, "false": False}.get(filters.get("flagged"))
    return expected_rows(db, org, flagged, search=filters.get("q"), sort=column, desc=desc)


def as_api_rows(rows):
    return [
        dict(row, flagged=None if row["flagged"] is None else bool(row["flagged"])) for row in rows
    ]


@pytest.mark.slow
@pytest.mark.asyncio
@pytest.mark.parametrize("column, desc", SORTS)
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: urllib.parse.urlencode(f) or "all")
async def test_every_sort_pages_and_exports_in_the_oracles_order(
    ds, sellers_db, column, desc, filters
):
    query = urllib.parse.urlencode(
        [("org_id", "org-a"), ("_size", "7")] + list(filters.items()) + sort_pairs(column, desc)
    )
    expected = oracle(sellers_db, "org-a", filters, column, desc)
    rows, pages = await page_through(ds, query)
    assert rows == as_api_rows(expected)
    export = await ds.client.get(
        f"/export/sellers/json?{query.replace('&_size=7', '')}", actor=ROOT
    )
    assert json.loads(export.text) == as_api_rows(expected)


@pytest.fixture(
    params=["few matches: listed", "pages check names, exports list", "all walk the index"]
)
def search_plan(request):
    """Limits for every plan of a search through the index (see plans.with_search_plan and
    paging._fetch): its matches listed for pages and exports; pages checking names within
    their budget and exports listing; or, past every bound, the index walk everywhere."""
    if request.param == "few matches: listed":
        return Limits()
    if request.param == "pages check names, exports list":
        return Limits(page_matches=0)
    return Limits(page_matches=0, export_matches=0, name_check_budget=1)


@pytest.mark.slow
@pytest.mark.asyncio
@pytest.mark.parametrize("term", SEARCHES)
@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
async def test_search_exports_equal_the_oracle(ds, sellers_db, term, fmt, search_plan):
    replace_config(ds, limits=search_plan)
    query = urllib.parse.urlencode({"org_id": "org-a", "q": term})
    response = await ds.client.get(f"/export/sellers/{fmt}?{query}", actor=ROOT)
    assert response.status_code == 200
    assert response.text == expected_export(sellers_db, "org-a", fmt, search=term)


@pytest.mark.asyncio
@pytest.mark.parametrize("column, desc", [("created_at", True), ("feedback_percent", False)])
@pytest.mark.parametrize("flagged", [None, "true"])
async def test_searched_exports_in_many_batches_equal_the_oracle(
    make_datasette, sellers_db, column, desc, flagged, search_plan
):
    ds = await make_datasette(sellers_db, root=True, plugin_config={"batch_size": 3})
    replace_config(ds, limits=search_plan)
    pairs = [("org_id", "org-a"), ("q", "SELLER")] + sort_pairs(column, desc)
    pairs += [("flagged", flagged)] if flagged else []
    response = await ds.client.get(
        f"/export/sellers/csv?{urllib.parse.urlencode(pairs)}", actor=ROOT
    )
    expected = expected_export(
        sellers_db, "org-a", "csv", flagged=flagged and True, search="SELLER", sort=(column, desc)
    )
    assert expected.count("\n") > 1 + 3  # more than one batch
    assert response.text == expected


@pytest.mark.asyncio
@pytest.mark.parametrize("column, desc", [("created_at", True), ("display_name", False)])
async def test_searched_pages_both_ways_in_both_plans(ds, sellers_db, column, desc, search_plan):
    replace_config(ds, limits=search_plan)
    query = urllib.parse.urlencode(
        [("org_id", "org-a"), ("q", "LINE"), ("_size", 3)] + sort_pairs(column, desc)
    )
    rows, pages = await page_through(ds, query)
    assert rows == as_api_rows(oracle(sellers_db, "org-a", {"q": "LINE"}, column, desc))
    last = urllib.parse.urlsplit(str(pages[-1].request.url))
    back, _ = await page_through(ds, query, rel="prev", path=last.path + "?" + last.query)
    assert back == rows


@pytest.mark.asyncio
async def test_search_never_crosses_the_organisation(make_datasette, tmp_path):
    path = build_sellers_db(tmp_path / "s.db", {"mine": 30, "theirs": 30}, seed=3)
    import sqlite_utils

    db = sqlite_utils.Database(path)
    db["sellers"].update(
        next(db["sellers"].rows_where("org_id = 'theirs'", limit=1))["id"],
        {"display_name": "Only Theirs Unique"},
    )
    ds = await make_datasette(path, root=True)
    for term in ("Only Theirs Unique", "unique", "Th"):
        body = (
            await ds.client.get(f"/-/sellers.json?org_id=mine&q={term}&_size=max", actor=ROOT)
        ).json()
        assert all("Only Theirs" not in (row["display_name"] or "") for row in body["rows"])
    theirs = await ds.client.get("/-/sellers.json?org_id=theirs&q=unique", actor=ROOT)
    assert [r["display_name"] for r in theirs.json()["rows"]] == ["Only Theirs Unique"]


@pytest.mark.asyncio
async def test_a_mirror_without_the_search_index_scans(make_datasette, sellers_db):
    import sqlite_utils

    sqlite_utils.Database(sellers_db)["sellers"].disable_fts()
    ds = await make_datasette(sellers_db, root=True)
    for term in ("SELLER", "ü"):
        response = await ds.client.get(f"/export/sellers/csv?org_id=org-a&q={term}", actor=ROOT)
        assert response.text == expected_export(sellers_db, "org-a", "csv", search=term)


@pytest.mark.slow
@pytest.mark.asyncio
@pytest.mark.parametrize("column, desc", [("created_at", True), ("feedback_percent", False)])
@pytest.mark.parametrize("size", [1, 7, 40])
async def test_prev_walks_back_to_the_first_page_exactly(ds, sellers_db, column, desc, size):
    query = urllib.parse.urlencode(
        [("org_id", "org-a"), ("_size", size)] + sort_pairs(column, desc)
    )
    forward, pages = await page_through(ds, query)
    last = pages[-1].json()
    assert last["next"] is None and (last["prev"] is not None or len(pages) == 1)
    last_path = urllib.parse.urlsplit(str(pages[-1].request.url))
    backward, back_pages = await page_through(
        ds, query, rel="prev", path=last_path.path + "?" + last_path.query
    )
    assert backward == forward
    assert [p.json()["rows"] for p in back_pages] == [p.json()["rows"] for p in reversed(pages)]
    assert back_pages[-1].json()["prev"] is None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "query, message",
    [
        ("_sort=created_at&_sort_desc=created_at", "Give _sort or _sort_desc, not both"),
        ("_sort=id", "Cannot sort by 'id': it is not exported"),
        ("_sort_desc=org_id", "Cannot sort by 'org_id': it is not exported"),
        ("_sort=updated_at", "'updated_at': it is not exported"),
        ("_sort=flagged", "Cannot sort by 'flagged': it is not exported"),
        ("_sort=nope", "Cannot sort by 'nope': it is not a column"),
        ("q=a&q=b", "given more than once"),
    ],
)
@pytest.mark.parametrize("path", ["/export/sellers/csv", "/-/sellers.json"])
async def test_bad_sorts_are_400(ds, query, message, path):
    response = await ds.client.get(f"{path}?org_id=org-a&{query}", actor=ROOT)
    assert response.status_code == 400
    assert message in response.json()["error"]


@pytest.mark.asyncio
async def test_tokens_are_bound_to_the_sort_and_the_search(ds):
    base = "/-/sellers.json?org_id=org-a&_size=5"
    sorted_token = (await ds.client.get(f"{base}&_sort=display_name", actor=ROOT)).json()["next"]
    searched = (await ds.client.get(f"{base}&q=seller", actor=ROOT)).json()["next"]
    default = (await ds.client.get(base, actor=ROOT)).json()["next"]
    for query, token in [
        ("", sorted_token),
        ("&_sort_desc=display_name", sorted_token),
        ("&q=seller", sorted_token),
        ("", searched),
        ("&q=Seller", searched),
        ("&_sort=created_at", default),
    ]:
        response = await ds.client.get(f"{base}{query}&_next={token}", actor=ROOT)
        assert response.status_code == 400, query
        assert "another organisation or other filters" in response.json()["error"]
    assert (
        await ds.client.get(f"{base}&_sort=display_name&_next={sorted_token}", actor=ROOT)
    ).status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path",
    [
        "/export/sellers/csv?org_id=org-a",
        "/export/sellers/ndjson?org_id=org-a&q=seller&_sort=times_seen",
        "/-/sellers.json?org_id=org-a&_size=3",
        "/-/sellers?org_id=org-a",
        "/-/sellers/orgs.json",
        "/sellers/sellers.sellers_csv?org_id=org-a",
    ],
)
async def test_head_answers_what_get_would_without_a_body(ds, path):
    got, head = (await ds.client.get(path, actor=ROOT)), (await ds.client.head(path, actor=ROOT))
    assert head.status_code == got.status_code and head.content == b""
    for name in ("content-type", "content-disposition", "link", "location"):
        # Tokens are encrypted afresh each time (a new IV): compare the links without them.
        assert without_tokens(head.headers.get(name)) == without_tokens(got.headers.get(name))


def without_tokens(value):
    import re

    return re.sub(r"_next=[^&>]+", "_next=TOKEN", value) if value else value


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path, status",
    [
        ("/export/sellers/csv?org_id=org-a&flaged=1", 400),
        ("/export/sellers/csv?org_id=org-a&_sort=id", 400),
        ("/-/sellers.json?org_id=org-a&_next=forged", 400),
    ],
)
async def test_head_makes_the_same_checks(ds, path, status):
    assert (await ds.client.head(path, actor=ROOT)).status_code == status
    assert (await ds.client.head(path)).status_code == 403


@pytest.mark.asyncio
async def test_download_names_say_what_each_file_holds(ds):
    names = {}
    queries = [
        ("csv", ""),
        ("csv", "&_bom=1"),
        ("json", ""),
        ("ndjson", ""),
        ("csv", "&flagged=true"),
        ("csv", "&flagged=false"),
        ("csv", "&q=seller"),
        ("csv", "&q=Seller"),
        ("csv", "&flagged=true&_bom=1"),
        ("csv", "&_sort=display_name"),
        ("csv", "&_sort_desc=display_name"),
    ]
    for fmt, query in queries:
        response = await ds.client.get(f"/export/sellers/{fmt}?org_id=org-a{query}", actor=ROOT)
        disposition = response.headers["content-disposition"]
        names[(fmt, query)] = disposition.split('filename="')[1].split('"')[0]
    assert len(set(names.values())) == len(names)
    date = names[("csv", "")].rsplit("-", 3)[1:]
    assert names[("csv", "")] == f"sellers-org-a-{'-'.join(date)}"
    assert names[("csv", "&_bom=1")].startswith("sellers-org-a-excel-")
    assert names[("csv", "&flagged=true&_bom=1")].startswith("sellers-org-a-flagged-excel-")
    assert names[("csv", "&flagged=false")].startswith("sellers-org-a-unflagged-")
    assert names[("csv", "&q=seller")].startswith("sellers-org-a-search-seller-")
    assert names[("csv", "&_sort_desc=display_name")].startswith(
        "sellers-org-a-by-display_name-desc-"
    )


@pytest_asyncio.fixture
async def many_orgs(make_datasette, tmp_path):
    path = build_sellers_db(
        tmp_path / "orgs.db", {"org-1": 30, "org-2": 3, "org-10": 3, "acme-corp": 2}, seed=9
    )
    return await make_datasette(path, root=True)


@pytest.mark.asyncio
async def test_the_page_counts_pages_and_shows_the_position(ds):
    page = await ds.client.get("/-/sellers?org_id=org-a&_size=100", actor=ROOT)
    assert "Rows 1–100 of 250" in page.text and "250 sellers" in page.text
    assert 'rel="prev"' not in page.text
    second = await ds.client.get(_link(page.text, "next"), actor=ROOT)
    assert "Rows 101–200 of 250" in second.text
    assert "First page" not in second.text  # the previous page is the first
    third = await ds.client.get(_link(second.text, "next"), actor=ROOT)
    assert "Rows 201–250 of 250" in third.text and ">First page</a>" in third.text
    back = await ds.client.get(_link(second.text, "prev"), actor=ROOT)
    assert "Rows 1–100 of 250" in back.text
    replace_config(ds, limits=Limits(count_limit=100))
    capped = await ds.client.get("/-/sellers?org_id=org-a&_size=20", actor=ROOT)
    assert "More than 100 sellers" in capped.text and "Rows 1–20 of more than 100" in capped.text


def _link(text, rel):
    import html
    import re

    return html.unescape(re.search(rf'<a href="([^"]+)" rel="{rel}">', text).group(1))


@pytest.mark.asyncio
async def test_the_picker_is_in_natural_order_and_empty_orgs_get_a_hint(many_orgs):
    page = await many_orgs.client.get("/-/sellers", actor=ROOT)
    positions = [
        page.text.index(f'<option value="{o}">') for o in ("acme-corp", "org-1", "org-2", "org-10")
    ]
    assert positions == sorted(positions)
    typo = await many_orgs.client.get("/-/sellers?org_id=org-01", actor=ROOT)
    assert "org-01 has no sellers in this mirror" in typo.text
    assert '<a href="/-/sellers?org_id=org-1">org-1</a>' in typo.text
    assert "Download" not in typo.text
    none = await many_orgs.client.get("/-/sellers?org_id=org-1&q=nothing-like-this", actor=ROOT)
    assert "No sellers match these filters." in none.text


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "query,canonical",
    [
        ("org_id=org-a&_order=-times_seen", "org_id=org-a&_sort_desc=times_seen"),
        ("org_id=org-a&_order=times_seen&q=x", "org_id=org-a&_sort=times_seen&q=x"),
        ("org_id=org-a&_order=", "org_id=org-a"),
        # Datasette's own table form says it this way.
        ("org_id=org-a&_sort=times_seen&_sort_by_desc=on", "org_id=org-a&_sort_desc=times_seen"),
    ],
)
async def test_the_sort_menu_redirects_to_datasettes_canonical_url(ds, query, canonical):
    response = await ds.client.get(f"/-/sellers?{query}", actor=ROOT)
    assert response.status_code == 302
    assert response.headers["location"] == f"/-/sellers?{canonical}"


@pytest.mark.asyncio
async def test_the_sort_menu_says_each_order_in_words_and_selects_the_current_one(ds):
    from datasette_seller_export.engine.schema import SORTABLE_COLUMNS
    from datasette_seller_export.web.browse import SORT_LABELS

    assert list(SORT_LABELS) == list(SORTABLE_COLUMNS)
    page = await ds.client.get("/-/sellers?org_id=org-a&_sort_desc=times_seen", actor=ROOT)
    assert '<option value="-times_seen" selected>Most seen first</option>' in page.text
    assert '<option value="" >' not in page.text and "descending" not in page.text
    default = await ds.client.get("/-/sellers?org_id=org-a", actor=ROOT)
    assert '<option value="" selected>Newest first</option>' in default.text


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "query,links,arrows",
    [
        # The default order is created_at descending: its header offers ascending.
        ("", {"created_at": "_sort=created_at", "times_seen": "_sort=times_seen"}, "created_at ▲"),
        ("&_sort=times_seen", {"times_seen": "_sort_desc=times_seen"}, "times_seen ▼"),
        ("&_sort_desc=platform", {"platform": "_sort=platform"}, "platform ▲"),
    ],
)
async def test_sortable_column_headers_link_to_their_order_with_datasettes_arrows(
    ds, query, links, arrows
):
    import html
    import re

    page = await ds.client.get(f"/-/sellers?org_id=org-a&q=a{query}", actor=ROOT)
    headers = re.findall(r'<th class="col-(\w+)" scope="col">(.*?)</th>', page.text)
    assert [name for name, _ in headers] == list(EXPORTED)
    cells = dict(headers)
    for column in ("normalized_name", "platform_id", "flagged"):
        assert "<a" not in cells[column]  # not sortable: no link
    for column, sort in links.items():
        href = html.unescape(re.search(r'href="([^"]+)"', cells[column]).group(1))
        assert sort in href and "q=a" in href and "org_id=org-a" in href and "_next" not in href
    shown = [
        html.unescape(re.sub("<[^>]+>", "", cell)).replace("\xa0", " ") for cell in cells.values()
    ]
    assert [text for text in shown if text.endswith(("▲", "▼"))] == [arrows]


@pytest.mark.asyncio
async def test_the_renderer_of_an_unfiltered_table_leads_to_the_picker(ds):
    response = await ds.client.get("/sellers/sellers.sellers_csv?flagged__exact=1", actor=ROOT)
    assert response.status_code == 302
    assert response.headers["location"] == "/-/sellers?flagged=true"
