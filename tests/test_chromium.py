"""End to end in a real headless browser (Debian's chromium, driven by Selenium through
chromium-driver): sign in by cookie, browse, filter, page, and download a CSV that must equal
the export endpoint's body. A screenshot lands in test-artifacts/ (not committed)."""

import io
import os
import shutil
import time
import urllib.parse
import zipfile

import httpx
import pytest
from support.oracle import EXPORTED, expected_rows
from support.sellers import REPO, build_sellers_db

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("CI needs chromium and chromium-driver: .ci/run installs them")
    pytest.skip("needs Debian's chromium and chromium-driver", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

pytestmark = pytest.mark.served

ACTOR = {"id": "carol", "org_id": "org-a"}
PAGE_SIZE = 25
COLUMN = {name: position for position, name in enumerate(EXPORTED)}


@pytest.fixture
def browser(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
        },
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.downloads = downloads
    yield driver
    driver.quit()


def table_cells(driver):
    return [
        [
            td.text.strip() for td in tr.find_elements(By.TAG_NAME, "td")
        ]  # NULL shows as a no-break space
        for tr in driver.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    ]


def wait_for_download(directory, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [f for f in os.listdir(directory) if not f.endswith(".crdownload")]
        if done and not any(f.endswith(".crdownload") for f in os.listdir(directory)):
            return directory / done[0]
        time.sleep(0.1)
    raise AssertionError(f"no download finished in {timeout} s: {os.listdir(directory)}")


def test_browse_filter_page_and_download_in_chromium(serve, browser, tmp_path):
    db_path = build_sellers_db(tmp_path / "sellers.db", {"org-a": 180, "org-b": 30}, seed=5)
    config = tmp_path / "datasette.json"
    config.write_text('{"permissions": {"seller_collection.read": {"org_id": "*"}}}')
    server = serve(db_path, "-c", str(config), "--setting", "default_page_size", str(PAGE_SIZE))
    cookie = server.cookies(ACTOR)["ds_actor"]

    browser.get(server.url + "/-/versions.json")  # a page on the origin, to set the cookie
    browser.add_cookie({"name": "ds_actor", "value": cookie, "path": "/"})
    browser.get(server.url + "/-/sellers")
    assert browser.find_element(By.CSS_SELECTOR, ".page-header h1").text == "Sellers of org-a"
    rows = expected_rows(db_path, "org-a")
    assert browser.find_element(By.CSS_SELECTOR, "h3.table-summary").text == f"{len(rows)} sellers"
    cells = table_cells(browser)
    assert len(cells) == PAGE_SIZE
    assert [c[COLUMN["platform"]] for c in cells] == [r["platform"] or "" for r in rows[:PAGE_SIZE]]
    os.makedirs(os.path.join(REPO, "test-artifacts"), exist_ok=True)
    browser.save_screenshot(os.path.join(REPO, "test-artifacts", "sellers-page.png"))

    # The flagged filter, as a person would use it.
    Select(browser.find_element(By.ID, "seller-export-flagged")).select_by_visible_text("Flagged")
    browser.find_element(By.CSS_SELECTOR, "form.seller-export-controls input[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda driver: "flagged=true" in driver.current_url)
    flagged_rows = expected_rows(db_path, "org-a", True)
    assert (
        browser.find_element(By.CSS_SELECTOR, "h3.table-summary").text
        == f"{len(flagged_rows)} sellers, flagged"
    )

    # Next page: the rows that follow, in order.
    first_page = table_cells(browser)
    browser.find_element(By.LINK_TEXT, "Next page").click()
    WebDriverWait(browser, 20).until(lambda driver: "_next=" in driver.current_url)
    second_page = table_cells(browser)
    created = COLUMN["created_at"]
    assert [c[created] for c in first_page + second_page] == [
        r["created_at"] or "" for r in flagged_rows[: 2 * PAGE_SIZE]
    ]

    # Download CSV: the file the browser saves equals the export endpoint's body.
    browser.find_element(By.LINK_TEXT, "CSV").click()
    saved = wait_for_download(browser.downloads)
    assert saved.name.startswith("sellers-org-a-") and saved.suffix == ".csv"
    endpoint = httpx.get(
        server.url + "/export/sellers/csv?flagged=true", cookies={"ds_actor": cookie}
    )
    assert saved.read_bytes() == endpoint.content
    browser.save_screenshot(os.path.join(REPO, "test-artifacts", "sellers-page-flagged.png"))


# Each control's text must fit inside it, and the control inside the page.
OVERFLOWING_CONTROLS = """
return Array.from(document.querySelectorAll(
    'form.seller-export-controls input, form.seller-export-controls select, '
    + 'form.seller-export-controls label, .seller-export-downloads a.button, '
    + '.seller-export-paging a'
)).filter(el => el.offsetParent !== null).map(el => {
    const box = el.getBoundingClientRect();
    return {
        what: el.outerHTML.slice(0, 80),
        clipped: el.scrollWidth > el.clientWidth + 1,
        outside: box.left < 0 || box.right > document.documentElement.clientWidth + 1,
    };
}).filter(c => c.clipped || c.outside);
"""
CELL_LABEL = "return getComputedStyle(arguments[0], '::before').content;"


def sign_in(browser, server, actor):
    browser.get(server.url + "/-/versions.json")  # a page on the origin, to set the cookie
    browser.add_cookie(
        {"name": "ds_actor", "value": server.cookies(actor)["ds_actor"], "path": "/"}
    )


def open_org_a_as_admin(serve, browser, tmp_path, org_sizes, width, seed=0):
    """A served mirror of `org_sizes`, 20 rows a page, and the browser at `width` px on
    org-a's page, signed in as an actor who may read any organisation."""
    db_path = build_sellers_db(tmp_path / "sellers.db", org_sizes, seed=seed)
    config = tmp_path / "datasette.json"
    config.write_text('{"permissions": {"seller_collection.read_any_org": {"id": "admin"}}}')
    server = serve(db_path, "-c", str(config), "--setting", "default_page_size", "20")
    browser.set_window_size(width, 1000)
    sign_in(browser, server, {"id": "admin"})
    browser.get(server.url + "/-/sellers?org_id=org-a")
    return db_path, server


@pytest.mark.parametrize("width", [1280, 420])
def test_the_page_at_every_width(serve, browser, tmp_path, width):
    orgs = {"org-a": 60, "org-2": 3, "org-10": 3}
    db_path, server = open_org_a_as_admin(serve, browser, tmp_path, orgs, width)
    assert browser.execute_script(OVERFLOWING_CONTROLS) == []
    created = browser.find_element(By.CSS_SELECTOR, "tbody td.col-created_at")
    assert (
        browser.execute_script("return getComputedStyle(arguments[0]).whiteSpace;", created)
        == "nowrap"
    )
    label = browser.execute_script(CELL_LABEL, created)
    assert label == ('"created_at"' if width <= 576 else "none")
    os.makedirs(os.path.join(REPO, "test-artifacts"), exist_ok=True)
    browser.save_screenshot(os.path.join(REPO, "test-artifacts", f"sellers-page-{width}px.png"))

    # Search and sort, as a person would, through the form.
    browser.find_element(By.ID, "seller-export-search").send_keys("LINE")
    Select(browser.find_element(By.ID, "seller-export-sort")).select_by_visible_text("Name, Z to A")
    browser.find_element(By.CSS_SELECTOR, "form.seller-export-controls input[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "_sort_desc=display_name" in d.current_url)
    assert "q=LINE" in browser.current_url
    expected = expected_rows(db_path, "org-a", search="LINE", sort="display_name", desc=True)
    names = [c[COLUMN["display_name"]] for c in table_cells(browser)]
    assert names == [" ".join((r["display_name"] or "").split()) for r in expected[:20]]
    assert browser.execute_script(OVERFLOWING_CONTROLS) == []
    browser.save_screenshot(os.path.join(REPO, "test-artifacts", f"sellers-search-{width}px.png"))

    # The picker, in natural order.
    browser.get(server.url + "/-/sellers")
    options = [
        o.get_attribute("value")
        for o in browser.find_elements(By.CSS_SELECTOR, "#seller-export-orgs option")
    ]
    assert options == ["org-2", "org-10", "org-a"]
    assert browser.execute_script(OVERFLOWING_CONTROLS) == []


def contents(data: bytes):
    """A download's bytes; a workbook's parts, as the times in its ZIP may be seconds apart
    between two exports."""
    if data.startswith(b"PK"):
        book = zipfile.ZipFile(io.BytesIO(data))
        return {name: book.read(name) for name in book.namelist()}
    return data


def test_every_download_button_saves_a_complete_file_named_for_what_it_holds(
    serve, browser, tmp_path
):
    db_path = build_sellers_db(tmp_path / "sellers.db", {"org-a": 120}, seed=2)
    config = tmp_path / "datasette.json"
    config.write_text('{"permissions": {"seller_collection.read": {"org_id": "*"}}}')
    server = serve(db_path, "-c", str(config))
    sign_in(browser, server, ACTOR)
    cookie = server.cookies(ACTOR)
    saved_names = set()
    for query, narrowing in [("", ""), ("?flagged=false&q=seller", "-unflagged-search-seller")]:
        browser.get(server.url + "/-/sellers" + query)
        buttons = browser.find_elements(By.CSS_SELECTOR, ".seller-export-downloads a.button")
        labels = ["CSV", "CSV for Excel", "JSON", "NDJSON", "Excel", "Parquet"]
        assert [b.text for b in buttons] == labels
        suffixes = ["csv", "excel-.csv", "json", "ndjson", "xlsx", "parquet"]
        for button, suffix in zip(buttons, suffixes, strict=True):
            href = button.get_attribute("href")
            for leftover in os.listdir(browser.downloads):
                os.remove(browser.downloads / leftover)
            button.click()
            saved = wait_for_download(browser.downloads)
            extension = suffix.rsplit(".", 1)[-1]
            assert saved.name.startswith(f"sellers-org-a{narrowing}-"), saved.name
            assert saved.name.endswith(f".{extension}") and ("-excel-" in saved.name) == (
                "excel" in suffix
            )
            fetched = httpx.get(href, cookies=cookie).content
            assert contents(saved.read_bytes()) == contents(fetched)
            saved_names.add(saved.name)
    assert len(saved_names) == 12  # every download is named apart from every other


def test_a_column_header_sorts_the_page_as_datasettes_do(serve, browser, tmp_path):
    db_path = build_sellers_db(tmp_path / "sellers.db", {"org-a": 60}, seed=4)
    config = tmp_path / "datasette.json"
    config.write_text('{"permissions": {"seller_collection.read": {"org_id": "*"}}}')
    server = serve(db_path, "-c", str(config), "--setting", "default_page_size", "20")
    sign_in(browser, server, ACTOR)
    browser.get(server.url + "/-/sellers?flagged=false")
    header = browser.find_element(By.CSS_SELECTOR, "th.col-times_seen a")
    assert header.text == "times_seen"
    header.click()
    WebDriverWait(browser, 20).until(lambda d: "_sort=times_seen" in d.current_url)
    assert "flagged=false" in browser.current_url
    assert browser.find_element(By.CSS_SELECTOR, "th.col-times_seen a").text == "times_seen ▼"
    expected = expected_rows(db_path, "org-a", False, sort="times_seen", desc=False)
    seen = [c[COLUMN["times_seen"]] for c in table_cells(browser)]
    assert seen == [str(r["times_seen"]) for r in expected[:20]]
    browser.find_element(By.CSS_SELECTOR, "th.col-times_seen a").click()  # and back down
    WebDriverWait(browser, 20).until(lambda d: "_sort_desc=times_seen" in d.current_url)
    assert browser.find_element(By.CSS_SELECTOR, "th.col-times_seen a").text == "times_seen ▲"
    selected = Select(browser.find_element(By.ID, "seller-export-sort")).first_selected_option
    assert selected.text == "Most seen first"


@pytest.mark.parametrize("width", [1280, 420])
def test_a_page_of_100_sellers_is_a_few_screens_at_any_width(serve, browser, tmp_path, width):
    db_path = build_sellers_db(tmp_path / "sellers.db", {"org-a": 150}, seed=6)
    config = tmp_path / "datasette.json"
    config.write_text('{"permissions": {"seller_collection.read": {"org_id": "*"}}}')
    server = serve(db_path, "-c", str(config))
    browser.set_window_size(width, 1000)
    sign_in(browser, server, ACTOR)
    browser.get(server.url + "/-/sellers?_size=100")
    assert len(table_cells(browser)) == 100
    height = browser.execute_script("return document.documentElement.scrollHeight;")
    os.makedirs(os.path.join(REPO, "test-artifacts"), exist_ok=True)
    browser.set_window_size(width, min(height, 3000))
    browser.save_screenshot(os.path.join(REPO, "test-artifacts", f"sellers-100-{width}px.png"))
    # About 420 px a seller before (42,000 px a page); now a card of two or three lines.
    assert height < 12_000, height
    assert browser.execute_script(OVERFLOWING_CONTROLS) == []
    name = browser.find_element(By.CSS_SELECTOR, "tbody td.col-times_seen")
    if width <= 576:
        assert browser.execute_script(CELL_LABEL, name) == '"times_seen"'


FILTERS_OVERFLOWING = OVERFLOWING_CONTROLS.replace(
    "'.seller-export-paging a'",
    "'.seller-export-paging a, .seller-export-filters, .seller-export-facets li, "
    "details.seller-export-columns label'",
)


@pytest.mark.parametrize("width", [1280, 420])
def test_filters_columns_and_facets_through_the_form(serve, browser, tmp_path, width):
    db_path, server = open_org_a_as_admin(serve, browser, tmp_path, {"org-a": 120}, width, seed=3)

    # A filter row, a facet and fewer columns, as a person would choose them.
    Select(browser.find_element(By.NAME, "_filter_column")).select_by_visible_text("times_seen")
    Select(browser.find_element(By.NAME, "_filter_op")).select_by_visible_text("gte")
    browser.find_element(By.NAME, "_filter_value").send_keys("300")
    Select(browser.find_element(By.ID, "seller-export-facet")).select_by_visible_text("platform")
    browser.find_element(By.CSS_SELECTOR, "details.seller-export-columns summary").click()
    for column in ("normalized_name", "platform_id", "feedback_count"):
        browser.find_element(By.CSS_SELECTOR, f"input[name=_col][value={column}]").click()
    browser.find_element(By.CSS_SELECTOR, "form.seller-export-controls input[type=submit]").click()
    WebDriverWait(browser, 20).until(lambda d: "times_seen__gte=300" in d.current_url)
    assert "_facet=platform" in browser.current_url and "_filter_" not in browser.current_url

    kept = [r for r in expected_rows(db_path, "org-a") if r["times_seen"] >= 300]
    shown = ("display_name", "platform", "times_seen", "feedback_percent", "flagged", "created_at")
    # By class: at 420 px the header row is hidden and each cell says its column.
    headers = [
        th.get_attribute("class") for th in browser.find_elements(By.CSS_SELECTOR, "thead th")
    ]
    assert headers == [f"col-{column}" for column in shown]
    summary = browser.find_element(By.CSS_SELECTOR, "h3.table-summary").text
    assert summary == f"{len(kept)} sellers, where times_seen gte 300"
    times = [c[shown.index("times_seen")] for c in table_cells(browser)]
    assert times == [str(r["times_seen"]) for r in kept[:20]]
    assert browser.execute_script(FILTERS_OVERFLOWING) == []
    os.makedirs(os.path.join(REPO, "test-artifacts"), exist_ok=True)
    browser.save_screenshot(os.path.join(REPO, "test-artifacts", f"sellers-filters-{width}px.png"))

    # A facet value toggles its filter on, and the facet shows it selected.
    counts = {}
    for r in kept:
        if r["platform"] is not None:
            counts[r["platform"]] = counts.get(r["platform"], 0) + 1
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0]
    browser.find_element(By.CSS_SELECTOR, ".facet-platform li a").click()
    WebDriverWait(browser, 20).until(lambda d: "platform=" in d.current_url)
    selected = browser.find_element(By.CSS_SELECTOR, ".facet-platform li strong").text
    assert selected == top[0]
    assert browser.find_element(By.CSS_SELECTOR, "h3.table-summary").text.startswith(f"{top[1]} ")

    # The download carries the filters and columns: the saved file is the endpoint's body.
    browser.find_element(By.LINK_TEXT, "CSV").click()
    saved = wait_for_download(browser.downloads)
    query = urllib.parse.urlsplit(browser.current_url).query
    kept_pairs = [(k, v) for k, v in urllib.parse.parse_qsl(query) if k not in ("_facet", "_size")]
    endpoint = httpx.get(
        server.url + "/export/sellers/csv?" + urllib.parse.urlencode(kept_pairs),
        cookies=server.cookies({"id": "admin"}),
    )
    assert saved.read_bytes() == endpoint.content
    assert endpoint.text.splitlines()[0] == ",".join(shown)
    assert "-where-" in saved.name and "-columns-6-" in saved.name
