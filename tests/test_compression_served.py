"""Negotiated zstd and gzip against a real `datasette serve`: every client decodes every format
to the identity bytes, q-values and 406 are honoured, a failure after the first byte leaves a
truncated compressed stream that every client reports, and the published datasette-gzip
plugin beside this one compresses nothing twice."""

import gzip
import json
import socket
import subprocess

import httpx
import pytest
import zstandard
from support.clients import raw_get as conftest_raw_get
from support.clients import served_config
from support.oracle import expected_export
from support.sellers import ADMIN, build_sellers_db

pytestmark = pytest.mark.served

CODINGS = ["zstd", "gzip"]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build_sellers_db(tmp_path_factory.mktemp("compressed") / "sellers.db", {"big": 3_000})


def server_args(tmp_path, db, *extra):
    return [db, *served_config(tmp_path, batch_size=100), *extra]


def raw_get(server, path, accept_encoding, method="GET"):
    """The body as it crossed the wire (see conftest.raw_get): `(status, headers, body,
    complete)`, with `accept_encoding` (None: no such header)."""
    headers = [] if accept_encoding is None else [("Accept-Encoding", accept_encoding)]
    status, answer, chunks, complete = conftest_raw_get(server, path, ADMIN, None, headers, method)
    return status, answer, b"".join(chunks), complete


def varies(headers):
    """Whether the answer says it varies by Accept-Encoding (Datasette adds Cookie and
    Authorization to the same header for a signed-in actor)."""
    return "Accept-Encoding" in [value.strip() for value in headers["vary"].split(",")]


def decode(coding, data):
    if coding == "gzip":
        return gzip.decompress(data)
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


@pytest.fixture(scope="module")
def served(tmp_path_factory, db):
    from support.server import Server

    folder = tmp_path_factory.mktemp("compressed-served")
    server = Server(server_args(folder, db), str(folder / "server.log"))
    yield server
    server.stop()


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
@pytest.mark.parametrize("coding", CODINGS)
def test_every_client_decodes_every_format_to_the_identity_bytes(served, db, fmt, coding):
    path = f"/export/sellers/{fmt}?org_id=big"
    expected = expected_export(db, "big", fmt).encode()
    status, headers, body, complete = raw_get(served, path, coding)
    assert status == 200 and complete
    assert headers["content-encoding"] == coding and varies(headers)
    assert decode(coding, body) == expected  # Python's gzip, the zstandard package
    assert len(body) < len(expected) / 3
    response = httpx.get(
        served.url + path,
        headers={"Accept-Encoding": coding},
        cookies=served.cookies(ADMIN),
        timeout=20,
    )
    assert response.headers["content-encoding"] == coding and response.content == expected
    curl = subprocess.run(
        ["curl", "-s", "-f", "--compressed", "-H", f"Accept-Encoding: {coding}"]
        + ["-b", "ds_actor=" + served.cookies(ADMIN)["ds_actor"], served.url + path],
        capture_output=True,
        check=True,
    )
    assert curl.stdout == expected


@pytest.mark.parametrize(
    "accept, coding",
    [
        (None, None),
        ("gzip, deflate, br, zstd", "zstd"),
        ("gzip, deflate", "gzip"),
        ("zstd;q=0.5, gzip", "gzip"),
        ("gzip;q=0", None),
        ("br", None),
        ("identity;q=0, gzip", "gzip"),
    ],
)
def test_q_values_are_honoured_and_every_answer_varies(served, db, accept, coding):
    status, headers, body, complete = raw_get(served, "/export/sellers/csv?org_id=big", accept)
    assert status == 200 and complete and varies(headers)
    assert headers.get("content-encoding") == coding
    expected = expected_export(db, "big", "csv").encode()
    assert (body if coding is None else decode(coding, body)) == expected


@pytest.mark.parametrize(
    "path",
    ["/export/sellers/ndjson?org_id=big", "/-/sellers.json?org_id=big", "/-/sellers/orgs.json"],
)
@pytest.mark.parametrize("accept", ["identity;q=0", "*;q=0", "gzip;q=0, zstd;q=0, identity;q=0"])
def test_nothing_acceptable_is_a_406_that_says_what_is(served, path, accept):
    status, headers, body, _ = raw_get(served, path, accept)
    assert status == 406 and varies(headers)
    error = json.loads(body)
    assert error["ok"] is False and error["status"] == 406
    assert "(zstd, gzip, identity)" in error["error"]


def test_the_api_and_orgs_json_are_compressed_and_small_bodies_are_not(served, db):
    status, headers, body, _ = raw_get(served, "/-/sellers.json?org_id=big&_size=200", "zstd")
    assert status == 200 and headers["content-encoding"] == "zstd"
    page = json.loads(decode("zstd", body))
    assert page["rows"] == json.loads(expected_export(db, "big", "json"))[:200]
    assert headers["link"].endswith('rel="next"')
    # Under a kilobyte: as it is, still varying.
    status, headers, body, _ = raw_get(served, "/-/sellers/orgs.json", "gzip, zstd")
    assert status == 200 and "content-encoding" not in headers
    assert varies(headers) and json.loads(body)["orgs"] == ["big"]


@pytest.mark.parametrize("coding", CODINGS)
def test_head_answers_what_get_would_without_a_body(served, coding):
    before = httpx.get(served.url + "/-/test/batches").json()["count"]
    status, headers, body, _ = raw_get(served, "/export/sellers/csv?org_id=big", coding, "HEAD")
    assert status == 200 and headers["content-encoding"] == coding and body == b""
    assert httpx.get(served.url + "/-/test/batches").json()["count"] == before


@pytest.mark.parametrize("coding", CODINGS)
def test_a_failure_after_the_first_byte_truncates_the_compressed_stream(tmp_path, db, coding):
    from support.server import Server

    server = Server(
        server_args(tmp_path, db), str(tmp_path / "server.log"), {"TEST_FAIL_AT_BATCH": "5"}
    )
    try:
        path = "/export/sellers/csv?org_id=big"
        status, headers, body, complete = raw_get(server, path, coding)
        assert status == 200 and headers["content-encoding"] == coding and not complete
        # What was sent decodes, as far as it goes, to the start of the export...
        decoder = (
            zstandard.ZstdDecompressor().decompressobj()
            if coding == "zstd"
            else __import__("zlib").decompressobj(31)
        )
        assert expected_export(db, "big", "csv").encode().startswith(decoder.decompress(body))
        # ...and every tool and client says it is incomplete.
        saved = tmp_path / f"partial.{'zst' if coding == 'zstd' else 'gz'}"
        saved.write_bytes(body)
        tool = ["zstd", "-t", "-q"] if coding == "zstd" else ["gzip", "-t"]
        assert subprocess.run(tool + [str(saved)], capture_output=True).returncode != 0
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(
                server.url + path,
                headers={"Accept-Encoding": coding},
                cookies=server.cookies(ADMIN),
                timeout=20,
            )
        curl = subprocess.run(
            ["curl", "-s", "--compressed", "-H", f"Accept-Encoding: {coding}"]
            + ["-b", "ds_actor=" + server.cookies(ADMIN)["ds_actor"], server.url + path],
            capture_output=True,
        )
        assert curl.returncode != 0
    finally:
        log = server.stop()
    assert "failed after the first byte; aborting the connection" in log


def test_a_hang_up_stops_a_compressed_export(tmp_path, db):
    from support.server import Server

    server = Server(
        server_args(tmp_path, db), str(tmp_path / "server.log"), {"TEST_BATCH_DELAY": "0.05"}
    )
    try:
        cookie = "ds_actor=" + server.cookies(ADMIN)["ds_actor"]
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
        sock.sendall(
            b"GET /export/sellers/json?org_id=big HTTP/1.1\r\nHost: localhost\r\n"
            + f"Cookie: {cookie}\r\nAccept-Encoding: zstd\r\n\r\n".encode()
        )
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.close()
        import time

        time.sleep(1.0)
        stopped_at = httpx.get(server.url + "/-/test/batches").json()
        time.sleep(1.0)
        assert httpx.get(server.url + "/-/test/batches").json()["count"] == stopped_at["count"]
        assert stopped_at["count"] < 10 and stopped_at["under_way"] == 0  # of 31 batches
    finally:
        log = server.stop()
    assert "client disconnected, export stopped" in log


@pytest.mark.parametrize("accept", ["gzip", "zstd", "gzip, zstd"])
def test_beside_datasette_gzip_nothing_is_compressed_twice(tmp_path, db, accept):
    """The published datasette-gzip (an asgi-gzip middleware) passes an answer that already
    has a Content-Encoding through untouched."""
    from support.server import Server

    server = Server(server_args(tmp_path, db), str(tmp_path / "s.log"), plugins=["datasette-gzip"])
    try:
        plugins = {p["name"] for p in httpx.get(server.url + "/-/plugins.json").json()}
        assert "datasette-gzip" in plugins
        for fmt in ("csv", "json"):
            status, headers, body, complete = raw_get(
                server, f"/export/sellers/{fmt}?org_id=big", accept
            )
            coding = "zstd" if "zstd" in accept else "gzip"
            assert status == 200 and complete and headers["content-encoding"] == coding
            assert decode(coding, body) == expected_export(db, "big", fmt).encode()
    finally:
        server.stop()
