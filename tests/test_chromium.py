"""End to end in a real headless browser (Debian's chromium, driven by Selenium through
chromium-driver): sign in by cookie, browse, filter, page, and download a CSV that must equal
the export endpoint's body. A screenshot lands in test-artifacts/ (not committed)."""

import os
import shutil
import time

import httpx
import pytest
from conftest import REPO, build_sellers_db

from datasette_seller_export.testing.oracle import EXPORTED, expected_rows

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):
        raise RuntimeError("CI needs chromium and chromium-driver: .ci/run installs them")
    pytest.skip("needs Debian's chromium and chromium-driver", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

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
