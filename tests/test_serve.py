"""Against a real `datasette serve` over HTTP: streaming, hang-ups and failures mid-stream."""

import subprocess
import time

import httpx
import pytest
from support.clients import raw_get, served_config
from support.oracle import expected_export, expected_rows
from support.sellers import ADMIN, build_sellers_db

pytestmark = pytest.mark.served

BATCH_SIZE = 50
BIG_ORG_ROWS = 20_000


@pytest.fixture(scope="module")
def big_db(tmp_path_factory):
    return build_sellers_db(
        tmp_path_factory.mktemp("serve") / "sellers.db", {"big": BIG_ORG_ROWS, "small": 10}
    )


@pytest.fixture
def server_args(tmp_path, big_db):
    return [big_db, *served_config(tmp_path, batch_size=BATCH_SIZE)]


def test_the_body_streams_in_batches_and_equals_the_direct_query(serve, server_args, big_db):
    server = serve(*server_args)
    status, headers, chunks, complete = raw_get(server, "/export/sellers/csv?org_id=big", ADMIN)
    assert status == 200 and complete
    assert headers["transfer-encoding"] == "chunked"
    assert (
        len(chunks) >= BIG_ORG_ROWS // BATCH_SIZE == len(expected_rows(big_db, "big")) // BATCH_SIZE
    )
    assert b"".join(chunks).decode() == expected_export(big_db, "big", "csv")


def test_a_client_that_hangs_up_stops_the_export(serve, server_args):
    # Each batch takes 20 ms, so the whole export would need ~8 s and ~390 batches.
    server = serve(*server_args, env_extra={"TEST_BATCH_DELAY": "0.02"})
    status, _, chunks, complete = raw_get(
        server, "/export/sellers/json?org_id=big", ADMIN, read_chunks=2
    )
    assert status == 200 and len(chunks) == 2 and not complete
    time.sleep(1.0)
    stopped_at = httpx.get(server.url + "/-/test/batches").json()["count"]
    time.sleep(1.0)
    assert httpx.get(server.url + "/-/test/batches").json()["count"] == stopped_at
    assert stopped_at < 60  # far short of the ~390 the whole export needs
    # And the server is healthy for the next client.
    status, _, _, complete = raw_get(server, "/export/sellers/csv?org_id=small", ADMIN)
    assert status == 200 and complete
    assert "client disconnected, export stopped" in server.stop()


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_a_failure_after_the_first_byte_is_an_incomplete_transfer(serve, server_args, fmt):
    server = serve(*server_args, env_extra={"TEST_FAIL_AT_BATCH": "3"})
    status, _, chunks, complete = raw_get(server, f"/export/sellers/{fmt}?org_id=big", ADMIN)
    assert status == 200 and chunks and not complete
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(
            server.url + f"/export/sellers/{fmt}?org_id=big",
            cookies=server.cookies(ADMIN),
            timeout=20,
        )
    log = server.stop()
    assert "failed after the first byte; aborting the connection" in log
    assert "injected fault in batch 3" in log


def test_a_failure_before_the_first_byte_is_a_json_error(serve, server_args):
    server = serve(*server_args, env_extra={"TEST_FAIL_AT_BATCH": "1"})
    response = httpx.get(
        server.url + "/export/sellers/csv?org_id=big", cookies=server.cookies(ADMIN), timeout=20
    )
    assert response.status_code == 500
    assert response.json()["error"].startswith(
        "The sellers database could not be read: injected fault"
    )
    assert "reading the sellers failed before the first byte" in server.stop()


@pytest.mark.parametrize(
    "message, status, error",
    [
        ("injected fault in batch {count}", 500, "The sellers database could not be read"),
        ("database is locked", 503, "The sellers database is locked by a writer"),
    ],
)
def test_a_database_failure_reaches_every_surface(serve, server_args, message, status, error):
    # The fault is injected at the database layer, so the API and the browse page meet it
    # as the exports do: each answers in its own form (JSON, or Datasette's HTML error page).
    server = serve(
        *server_args, env_extra={"TEST_FAIL_AT_BATCH": "1", "TEST_FAULT_MESSAGE": message}
    )
    cookies = server.cookies(ADMIN)
    for path in ("/export/sellers/ndjson?org_id=big", "/-/sellers.json?org_id=big"):
        response = httpx.get(server.url + path, cookies=cookies, timeout=20)
        assert response.status_code == status, path
        assert response.json()["error"].startswith(error)
        assert ("retry-after" in response.headers) == (status == 503)
    for path in ("/-/sellers?org_id=big", "/-/sellers"):
        response = httpx.get(server.url + path, cookies=cookies, timeout=20)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("text/html")
        assert error in response.text
        assert "sid-big" not in response.text
    assert server.stop().count("reading the sellers failed before the first byte") == 4


def test_head_over_http_reads_no_rows(serve, server_args):
    server = serve(*server_args)
    cookies = server.cookies(ADMIN)
    for path in ("/export/sellers/csv?org_id=big", "/export/sellers/json?org_id=big&q=seller"):
        before = httpx.get(server.url + "/-/test/batches").json()["count"]
        head = httpx.head(server.url + path, cookies=cookies)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"].startswith(("text/csv", "application/json"))
        assert head.headers["content-disposition"].startswith('attachment; filename="sellers-big-')
        # The membership lookup is not a batch: no query of the sellers table ran.
        assert httpx.get(server.url + "/-/test/batches").json()["count"] == before
    curl = subprocess.run(
        [
            "curl",
            "-sI",
            "-b",
            f"ds_actor={cookies['ds_actor']}",
            server.url + "/-/sellers.json?org_id=big",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert curl.stdout.startswith("HTTP/1.1 200") and 'rel="next"' in curl.stdout
