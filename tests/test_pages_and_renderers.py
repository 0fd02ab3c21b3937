"""`/-/sellers`, the menu item, the table action and the output renderers, through
Datasette's client and across the permission matrix."""

import html
import re
from html.parser import HTMLParser

import pytest
import pytest_asyncio
from support.oracle import EXPORTED, expected_export, expected_rows
from support.sellers import ADMIN

GRANTS = {
    "permissions": {
        "seller_collection.read": {"id": "*"},
        "seller_collection.read_any_org": {"id": ["admin", "root"]},
    }
}
ORG_B = {"id": "bea", "org_id": "org-b"}


class Page(HTMLParser):
    """The rows, links and texts of a rendered page."""

    def __init__(self, text):
        super().__init__()
        self.rows, self.links, self._cell, self._in_body = [], {}, None, False
        self._href = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._cell = ""
        elif tag == "a":
            self._href, self._text = attrs.get("href"), ""

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append(self._cell)
            self._cell = None
        elif tag == "a" and self._href is not None:
            self.links[self._text.strip()] = self._href
            self._href = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        if self._href is not None:
            self._text += data


def shown(value):
    """A value as the page shows it."""
    if value is None:
        return "\xa0"
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def expected_cells(db_path, org_id, flagged=None):
    rows = expected_rows(db_path, org_id, flagged)
    for row in rows:
        if row["flagged"] is not None:
            row["flagged"] = bool(row["flagged"])
    return [[shown(row[c]) for c in EXPORTED] for row in rows]


@pytest_asyncio.fixture
async def granted(make_datasette, sellers_db):
    return await make_datasette(sellers_db, config=GRANTS, root=True)


@pytest.mark.asyncio
async def test_an_org_actor_pages_through_its_own_sellers(granted, sellers_db):
    path, cells, pages = "/-/sellers?_size=40", [], 0
    while path:
        response = await granted.client.get(path, actor=ORG_B)
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/html"
        )
        page = Page(response.text)
        cells += page.rows
        pages += 1
        path = page.links.get("Next page")
        path = html.unescape(path) if path else None
    assert cells == expected_cells(sellers_db, "org-b")
    assert pages == 1  # 40 rows fit one page of 40 exactly: no empty second page
    response = await granted.client.get("/-/sellers", actor=ORG_B)
    assert '<h3 class="table-summary">40 sellers</h3>' in response.text
    assert '<th class="col-display_name" scope="col"><a href="/-/sellers?' in response.text
    assert '<th class="col-normalized_name" scope="col">normalized_name</th>' in response.text


@pytest.mark.asyncio
async def test_paging_and_the_flagged_filter_for_an_admin(granted, sellers_db):
    path, cells = "/-/sellers?org_id=org-a&flagged=true&_size=7", []
    while path:
        page = Page((await granted.client.get(path, actor=ADMIN)).text)
        cells += page.rows
        path = page.links.get("Next page")
    assert cells == expected_cells(sellers_db, "org-a", True)
    first = await granted.client.get("/-/sellers?org_id=org-a&flagged=true", actor=ADMIN)
    total = len(expected_rows(sellers_db, "org-a", True))
    assert f"{total:,} sellers, flagged</h3>" in first.text
    assert '<option value="true" selected>Flagged</option>' in first.text


@pytest.mark.asyncio
async def test_download_buttons_carry_the_filters(granted, sellers_db):
    page = Page(
        (await granted.client.get("/-/sellers?org_id=org-a&flagged=false", actor=ADMIN)).text
    )
    assert page.links["CSV"] == "/export/sellers/csv?org_id=org-a&flagged=false"
    assert page.links["CSV for Excel"] == "/export/sellers/csv?org_id=org-a&flagged=false&_bom=1"
    assert page.links["JSON"] == "/export/sellers/json?org_id=org-a&flagged=false"
    assert page.links["NDJSON"] == "/export/sellers/ndjson?org_id=org-a&flagged=false"
    response = await granted.client.get(page.links["JSON"], actor=ADMIN)
    assert response.text == expected_export(sellers_db, "org-a", "json", flagged=False)


@pytest.mark.asyncio
async def test_seller_names_are_escaped(granted):
    text = (await granted.client.get("/-/sellers?org_id=org-a&_size=max", actor=ADMIN)).text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script>alert(1)" not in text


@pytest.mark.asyncio
async def test_no_internal_value_or_other_org_on_the_page(granted):
    text = (await granted.client.get("/-/sellers?_size=max", actor=ORG_B)).text
    for marker in ("sid-", "INTERNAL-", "1999-01-01", "1998-06-06", "DELETED", "org-a"):
        assert marker not in text, marker


@pytest.mark.asyncio
async def test_an_any_org_reader_without_an_org_gets_the_picker(granted):
    response = await granted.client.get("/-/sellers", actor=ADMIN)
    assert response.status_code == 200
    assert "Choose an organisation" in response.text
    for org_id in ("org-a", "org-b", "org-one"):
        assert f'<option value="{org_id}">' in response.text
    # Its sellers are all soft-deleted: nothing to export, so nothing to choose.
    assert '<option value="org-empty">' not in response.text
    assert '<table class="rows-and-columns' not in response.text
    # Org actors get no picker.
    assert "seller-export-orgs" not in (await granted.client.get("/-/sellers", actor=ORG_B)).text


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "actor,path,status,message",
    [
        (None, "/-/sellers", 403, "seller_collection.read"),
        ({"id": "noorg"}, "/-/sellers", 403, "no org_id"),
        (ORG_B, "/-/sellers?org_id=org-a", 403, "seller_collection.read_any_org"),
        (ORG_B, "/-/sellers?flagged=maybe", 400, "flagged=&#39;maybe&#39;"),
        (ORG_B, "/-/sellers?_next=forged", 400, "not a valid paging token"),
        (ADMIN, "/-/sellers?nonsense=1", 400, "Unknown parameter"),
    ],
)
async def test_refusals_are_datasette_error_pages(granted, actor, path, status, message):
    response = await granted.client.get(path, actor=actor)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert "Traceback" not in response.text


@pytest.mark.asyncio
async def test_menu_item_only_for_actors_who_may_use_the_page(granted, make_datasette, sellers_db):
    for actor, shown_ in ((ORG_B, True), (ADMIN, True), ({"id": "root"}, True), (None, False)):
        text = (await granted.client.get("/", actor=actor)).text
        assert ('<li><a href="/-/sellers">Sellers</a></li>' in text) is shown_, actor
    ungranted = await make_datasette(sellers_db)
    assert "/-/sellers" not in (await ungranted.client.get("/", actor=ORG_B)).text


@pytest.mark.asyncio
async def test_table_action_on_the_raw_table(granted):
    response = await granted.client.get("/sellers/sellers", actor=ADMIN)
    assert response.status_code == 200
    assert "Browse and export sellers" in response.text


# --- output renderers -----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_renderers_appear_on_the_table_page_for_readers(granted):
    text = (await granted.client.get("/sellers/sellers?org_id=org-a", actor=ADMIN)).text
    links = re.search(r'<p class="export-links">(.*?)</p>', text, re.S).group(1)
    assert "sellers_csv" in links and "sellers_json" in links
    # Not on other tables' pages or queries.
    query = (await granted.client.get("/sellers/-/query?sql=select+1", actor=ADMIN)).text
    assert "sellers_csv" not in query


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path,location",
    [
        ("/sellers/sellers.sellers_csv?org_id=org-a", "/export/sellers/csv?org_id=org-a"),
        (
            "/sellers/sellers.sellers_json?org_id__exact=org-a&flagged=1",
            "/export/sellers/json?org_id=org-a&flagged=true",
        ),
        (
            "/sellers/sellers.sellers_csv?org_id=org-a&flagged__exact=0&_sort=id&_size=5",
            "/export/sellers/csv?org_id=org-a&flagged=false",
        ),
        (
            "/sellers/sellers.sellers_csv?org_id=org-a&platform=ebay&times_seen__gte=5&_col=platform",
            "/export/sellers/csv?org_id=org-a&platform=ebay&times_seen__gte=5&_col=platform",
        ),
    ],
)
async def test_renderers_hand_over_to_the_streaming_export(granted, sellers_db, path, location):
    response = await granted.client.get(path, actor=ADMIN)
    assert response.status_code == 302
    assert response.headers["location"] == location
    followed = await granted.client.get(location, actor=ADMIN)
    assert followed.status_code == 200


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "path,status,message",
    [
        ("/sellers/sellers.sellers_csv?org_id=org-a&id__exact=x", 400, "Cannot filter by 'id'"),
        ("/sellers/sellers.sellers_csv?org_id=org-a&deleted_at__notnull=1", 400, "deleted_at"),
        ("/sellers/sellers.sellers_csv?org_id=org-a&_col=org_id", 400, "Cannot choose column"),
        ("/sellers/sellers.sellers_csv?org_id=org-a&_where=1", 400, "not '_where'"),
        ("/sellers/sellers.sellers_csv?org_id=org-a&org_id=org-b", 400, "not 'org_id'"),
        ("/sellers/sellers.sellers_json?org_id=org-a&flagged=maybe", 400, "flagged='maybe'"),
    ],
)
async def test_renderers_refuse_what_the_export_cannot_honour(granted, path, status, message):
    # (An unfiltered table page leads to the browse page's picker: see the next test.)
    response = await granted.client.get(path, actor=ADMIN)
    assert response.status_code == status
    assert message in response.json()["error"]


@pytest.mark.asyncio
async def test_renderers_for_org_actors_when_the_raw_table_is_open(make_datasette, sellers_db):
    ds = await make_datasette(
        sellers_db,
        plugin_config={"protect_raw_table": False},
        config={"permissions": {"seller_collection.read": {"org_id": "*"}}},
    )
    page = (await ds.client.get("/sellers/sellers", actor=ORG_B)).text
    assert "sellers_csv" in page
    own = await ds.client.get("/sellers/sellers.sellers_csv", actor=ORG_B)
    assert own.headers["location"] == "/export/sellers/csv?org_id=org-b"
    other = await ds.client.get("/sellers/sellers.sellers_csv?org_id=org-a", actor=ORG_B)
    assert other.status_code == 403
    # An actor allowed to see the table but not to export gets no links and a 403.
    stranger = {"id": "stranger"}
    assert "sellers_csv" not in (await ds.client.get("/sellers/sellers", actor=stranger)).text
    assert (
        await ds.client.get("/sellers/sellers.sellers_csv?org_id=org-a", actor=stranger)
    ).status_code == 403


@pytest.mark.asyncio
async def test_an_anonymous_visitor_of_the_page_is_told_to_sign_in(ds):
    response = await ds.client.get("/-/sellers")
    assert response.status_code == 403
    assert "sign in first" in response.text
    signed_in = await ds.client.get("/-/sellers", actor={"id": "nobody"})
    assert signed_in.status_code == 403 and "sign in" not in signed_in.text
