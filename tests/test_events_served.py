"""The plugin's events from a real `datasette serve`: one per export however it ends (whole,
hung up, failed mid-stream), one per page and per refusal, as a recording plugin of the
tests' own sees them (plugins/event_recorder.py) and as the published datasette-events-db
stores them."""

import json
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest
from support.clients import raw_get, served_config
from support.sellers import ADMIN, ROW_MARKERS, build_sellers_db
from support.server import SECRET, Server

pytestmark = pytest.mark.served

BATCH_SIZE = 50
BIG_ORG_ROWS = 5_000
MEMBER = {"id": "alice", "org_id": "small"}
# The README's query on datasette-events-db's table: who exported organisation X since Y.
WHO_EXPORTED = """
select created, actor_id,
  json_extract(properties, '$.format') as format,
  json_extract(properties, '$.rows') as rows,
  json_extract(properties, '$.outcome') as outcome
from datasette_events
where event = 'seller-export'
  and json_extract(properties, '$.org_id') = :org_id
  and created >= :since
order by created
"""


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    return build_sellers_db(
        tmp_path_factory.mktemp("events") / "sellers.db", {"big": BIG_ORG_ROWS, "small": 10}
    )


def start(serve, tmp_path, mirror, **env):
    events = tmp_path / "events.jsonl"
    args = served_config(tmp_path, batch_size=BATCH_SIZE)
    server = serve(mirror, *args, env_extra={"TEST_EVENTS_FILE": str(events), **env})
    return server, events


def recorded(path, count, timeout=10):
    """The `count` events in the recorder's file, once that many are there, and no more for a
    moment after; none holding a value of a row."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            time.sleep(0.3)
            text = path.read_text()
            lines = text.splitlines()
            assert len(lines) == count, lines
            events = [json.loads(line) for line in lines]
            as_written = json.dumps(events, ensure_ascii=False)
            assert [marker for marker in ROW_MARKERS if marker in as_written] == []
            return events
        time.sleep(0.05)
    raise AssertionError(f"{count} events were not recorded within {timeout} s")


def test_a_whole_export_is_one_event_with_what_it_sent(serve, tmp_path, mirror):
    server, events = start(serve, tmp_path, mirror)
    status, _, chunks, complete = raw_get(server, "/export/sellers/csv?org_id=big", ADMIN)
    assert status == 200 and complete
    (event,) = recorded(events, 1)
    assert event["name"] == "seller-export" and event["actor"] == ADMIN
    properties = event["properties"]
    assert properties["rows"] == BIG_ORG_ROWS
    assert properties["bytes"] == len(b"".join(chunks))
    assert (properties["outcome"], properties["encoding"]) == ("complete", "identity")


def test_a_hang_up_is_one_disconnected_event(serve, tmp_path, mirror):
    server, events = start(serve, tmp_path, mirror, TEST_BATCH_DELAY="0.02")
    status, _, chunks, complete = raw_get(
        server, "/export/sellers/json?org_id=big", ADMIN, read_chunks=2
    )
    assert status == 200 and not complete
    (event,) = recorded(events, 1)
    properties = event["properties"]
    assert properties["outcome"] == "disconnected"
    # At least what the client read, and far short of the whole.
    assert 2 * BATCH_SIZE <= properties["rows"] < BIG_ORG_ROWS / 2
    assert properties["bytes"] >= len(b"".join(chunks))


def test_a_failure_mid_stream_is_one_failed_event(serve, tmp_path, mirror):
    server, events = start(serve, tmp_path, mirror, TEST_FAIL_AT_BATCH="3")
    status, _, chunks, complete = raw_get(server, "/export/sellers/ndjson?org_id=big", ADMIN)
    assert status == 200 and not complete
    (event,) = recorded(events, 1)
    properties = event["properties"]
    assert properties["outcome"] == "failed"
    # Batches 1 and 2 were sent; the third failed.
    assert properties["rows"] == 2 * BATCH_SIZE == len(b"".join(chunks).splitlines())
    assert properties["bytes"] == len(b"".join(chunks))


def test_a_page_and_a_refusal_are_one_event_each(serve, tmp_path, mirror):
    server, events = start(serve, tmp_path, mirror)
    page = httpx.get(
        server.url + "/-/sellers.json?org_id=small&_size=4", cookies=server.cookies(ADMIN)
    )
    assert page.status_code == 200
    refused = httpx.get(server.url + "/export/sellers/csv?org_id=big")
    assert refused.status_code == 403
    page_event, refusal = recorded(events, 2)
    assert page_event["name"] == "seller-page"
    assert page_event["properties"]["rows"] == 4
    assert refusal == {
        "name": "seller-access-denied",
        "actor": None,
        "properties": {"path": "/export/sellers/csv", "org_id": "big", "reason": "not signed in"},
    }


@pytest.fixture
def events_db_server(tmp_path, mirror):
    """A server with the published datasette-events-db, its internal database on disk."""
    internal = tmp_path / "internal.db"
    args = [mirror, *served_config(tmp_path), "--internal", str(internal)]
    server = Server(args, tmp_path / "server.log", plugins=("datasette-events-db",))
    yield server, internal
    server.stop()


def test_datasette_events_db_records_the_events(events_db_server):
    server, internal = events_db_server
    since = time.strftime("%Y-%m-%d", time.gmtime())
    cookies = server.cookies(ADMIN)
    assert httpx.get(server.url + "/export/sellers/csv?org_id=small", cookies=cookies).is_success
    assert httpx.get(server.url + "/export/sellers/xlsx?org_id=big", cookies=cookies).is_success
    assert httpx.get(server.url + "/-/sellers.json?org_id=big", cookies=cookies).is_success
    assert (
        httpx.get(server.url + "/-/sellers.json", cookies=server.cookies(MEMBER)).status_code == 403
    )

    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(internal) as db:
            rows = db.execute("select event, actor_id from datasette_events order by id").fetchall()
        if len(rows) >= 4 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert rows == [
        ("seller-export", "admin"),
        ("seller-export", "admin"),
        ("seller-page", "admin"),
        ("seller-access-denied", "alice"),
    ]
    with sqlite3.connect(internal) as db:
        exported = db.execute(WHO_EXPORTED, {"org_id": "big", "since": since}).fetchall()
    assert [row[1:] for row in exported] == [("admin", "xlsx", BIG_ORG_ROWS, "complete")]


def test_a_token_restricted_from_reading_is_refused_as_such(serve, tmp_path, mirror):
    server, events = start(serve, tmp_path, mirror)
    command = [sys.executable, "-m", "datasette", "create-token", "admin", "--secret", SECRET]
    token = subprocess.run(
        [*command, "--all", "view-instance"], capture_output=True, text=True, check=True
    ).stdout.strip()
    response = httpx.get(
        server.url + "/-/sellers.json?org_id=big", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 403
    assert "restrictions leave out seller_collection.read" in response.json()["error"]
    (refusal,) = recorded(events, 1)
    assert refusal["actor"]["id"] == "admin" and refusal["actor"]["token"] == "dstok"
    assert refusal["properties"] == {
        "path": "/-/sellers.json",
        "org_id": "big",
        "reason": "token restricted",
    }
