"""Real deployments, against a real `datasette serve`: Datasette's own API tokens (made by its
`create-token` command, sent as `Authorization: Bearer`) and a published sign-in plugin,
`datasette-auth-passwords`, whose actors carry an `id` and no `org_id`. Their organisations
come from the memberships table."""

import base64
import json
import re
import subprocess
import sys
import time
import urllib.parse

import httpx
import pytest
from datasette_auth_passwords.utils import hash_password
from support.clients import run_cli
from support.oracle import expected_export
from support.sellers import build_sellers_db
from support.server import SECRET

PERMISSIONS = {
    "seller_collection.read": {"id": "*"},
    "seller_collection.read_any_org": {"id": "admin"},
}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    path = build_sellers_db(
        tmp_path_factory.mktemp("deploy") / "sellers.db", {"org-a": 120, "org-b": 30, "org-c": 5}
    )
    for actor_id, *orgs in [("alice", "org-a"), ("multi", "org-b", "org-c"), ("bea", "org-b")]:
        assert run_cli("members", "add", path, actor_id, *orgs).exit_code == 0
    return path


def config_file(tmp_path, plugins=None):
    path = tmp_path / "datasette.json"
    path.write_text(json.dumps({"permissions": PERMISSIONS, "plugins": plugins or {}}))
    return str(path)


def create_token(actor_id, *options):
    """A token from Datasette's own `create-token`, as an operator would make one."""
    command = [sys.executable, "-m", "datasette", "create-token", actor_id, "--secret", SECRET]
    result = subprocess.run(command + list(options), capture_output=True, text=True, check=True)
    token = result.stdout.strip()
    assert token.startswith("dstok_")
    return token


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def follow_next_urls(server, path, headers):
    """Every row of the API, following `next_url` to the end, as a script would."""
    rows, url = [], server.url + path
    while url:
        response = httpx.get(url, headers=headers, timeout=30)
        assert response.status_code == 200, response.text
        rows += response.json()["rows"]
        url = response.json()["next_url"]
    return rows


@pytest.fixture(scope="module")
def token_server(mirror, tmp_path_factory):
    from support.server import Server

    tmp = tmp_path_factory.mktemp("token-server")
    server = Server([mirror, "-c", config_file(tmp)], tmp / "server.log")
    yield server
    server.stop()


def test_a_token_exports_its_actors_organisation_on_every_surface(token_server, mirror):
    headers = bearer(create_token("alice"))
    for fmt in ("csv", "json", "ndjson"):
        response = httpx.get(f"{token_server.url}/export/sellers/{fmt}", headers=headers)
        assert response.status_code == 200, response.text
        assert response.text == expected_export(mirror, "org-a", fmt)
    rows = follow_next_urls(token_server, "/-/sellers.json?_size=50", headers)
    assert json.dumps(rows, ensure_ascii=False, separators=(",", ":")) == (
        expected_export(mirror, "org-a", "json").replace(",\n", ",")
    )
    page = httpx.get(f"{token_server.url}/-/sellers", headers=headers)
    assert page.status_code == 200 and "120 sellers" in page.text
    orgs = httpx.get(f"{token_server.url}/-/sellers/orgs.json", headers=headers)
    assert orgs.json() == {"ok": True, "orgs": ["org-a"], "any_org": False}
    other = httpx.get(f"{token_server.url}/export/sellers/csv?org_id=org-b", headers=headers)
    assert other.status_code == 403


def test_a_token_for_several_organisations_chooses_with_org_id(token_server, mirror):
    headers = bearer(create_token("multi"))
    response = httpx.get(f"{token_server.url}/export/sellers/csv", headers=headers)
    assert response.status_code == 400
    assert response.json()["error"].endswith("you belong to org-b, org-c")
    chosen = httpx.get(f"{token_server.url}/export/sellers/csv?org_id=org-c", headers=headers)
    assert chosen.status_code == 200 and chosen.text == expected_export(mirror, "org-c", "csv")


@pytest.mark.parametrize(
    "options, status",
    [
        (["--all", "seller_collection.read"], 200),
        (["--all", "view-instance"], 403),
        (["--database", "sellers", "view-table"], 403),
    ],
)
def test_token_restrictions_are_honoured(token_server, options, status):
    headers = bearer(create_token("alice", *options))
    for path in ("/export/sellers/csv", "/-/sellers.json", "/-/sellers/orgs.json"):
        response = httpx.get(token_server.url + path, headers=headers)
        assert response.status_code == status, (path, response.text)


def test_a_restricted_admin_token_cannot_read_other_organisations(token_server):
    headers = bearer(create_token("admin", "--all", "seller_collection.read"))
    response = httpx.get(f"{token_server.url}/export/sellers/csv?org_id=org-a", headers=headers)
    assert response.status_code == 403
    unrestricted = bearer(create_token("admin"))
    response = httpx.get(
        f"{token_server.url}/export/sellers/csv?org_id=org-a", headers=unrestricted
    )
    assert response.status_code == 200


def test_an_expired_token_is_refused(token_server):
    headers = bearer(create_token("alice", "--expires-after", "1"))
    time.sleep(2.1)
    response = httpx.get(f"{token_server.url}/export/sellers/csv", headers=headers)
    assert response.status_code == 401


def test_a_removed_member_is_refused_on_the_next_page(token_server, mirror):
    headers = bearer(create_token("bea"))
    first = httpx.get(f"{token_server.url}/-/sellers.json?_size=10", headers=headers)
    assert first.status_code == 200 and first.json()["next_url"]
    assert run_cli("members", "remove", mirror, "bea", "org-b").exit_code == 0
    try:
        again = httpx.get(first.json()["next_url"], headers=headers)
        assert again.status_code == 403
    finally:
        assert run_cli("members", "add", mirror, "bea", "org-b").exit_code == 0


# --- behind a sign-in plugin -----------------------------------------------------------------

PASSWORD = "correct horse battery staple"


def start_password_server(mirror, tmp, http_basic_auth):
    from support.server import Server

    # Few iterations: with HTTP Basic the password is checked on every request.
    hashed = hash_password(PASSWORD, iterations=1_000)
    plugins = {
        "datasette-auth-passwords": {
            "http_basic_auth": http_basic_auth,
            "bea_password_hash": hashed,
            "multi_password_hash": hashed,
            # The plugin's own actor block: an id and a name, nothing of ours.
            "actors": {"bea": {"id": "bea", "name": "Bea"}},
        }
    }
    return Server([mirror, "-c", config_file(tmp, plugins)], tmp / "server.log")


@pytest.fixture(scope="module")
def basic_auth_server(mirror, tmp_path_factory):
    server = start_password_server(mirror, tmp_path_factory.mktemp("basic"), True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def login_form_server(mirror, tmp_path_factory):
    server = start_password_server(mirror, tmp_path_factory.mktemp("form"), False)
    yield server
    server.stop()


def test_http_basic_sign_in_exports_through_memberships(basic_auth_server, mirror):
    url = basic_auth_server.url
    response = httpx.get(f"{url}/export/sellers/json", auth=("bea", PASSWORD))
    assert response.status_code == 200 and response.text == expected_export(mirror, "org-b", "json")
    assert httpx.get(f"{url}/export/sellers/json", auth=("bea", "nope")).status_code == 401
    rows = follow_next_urls(
        basic_auth_server, "/-/sellers.json?org_id=org-c&_size=2", {"Authorization": basic("multi")}
    )
    assert len(rows) == 5


def basic(user):
    return "Basic " + base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()


def test_the_login_form_signs_in_and_the_page_shows_the_picker(login_form_server, mirror):
    with httpx.Client(base_url=login_form_server.url) as browser:
        assert browser.get("/export/sellers/csv").status_code == 403  # not signed in yet
        login = browser.get("/-/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', login.text).group(1)
        posted = browser.post(
            "/-/login", data={"username": "multi", "password": PASSWORD, "csrftoken": token}
        )
        assert posted.status_code == 302 and "ds_actor" in browser.cookies
        page = browser.get("/-/sellers")
        assert page.status_code == 200
        assert '<option value="org-b">org-b</option>' in page.text
        assert '<option value="org-c">org-c</option>' in page.text
        chosen = browser.get("/-/sellers?" + urllib.parse.urlencode({"org_id": "org-c"}))
        assert chosen.status_code == 200 and "5 sellers" in chosen.text
        export = browser.get("/export/sellers/csv?org_id=org-c")
        assert export.status_code == 200 and export.text == expected_export(mirror, "org-c", "csv")
