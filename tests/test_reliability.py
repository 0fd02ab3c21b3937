"""Reliability against real `datasette serve` processes: writes during an export, faults
before and after the first byte, clients hanging up in numbers, load, and two replicas.
Every run here is bounded in count and time."""

import json
import os
import random
import sqlite3
import threading
import time

import httpx
import pytest
import sqlite_utils
from support.clients import served_config
from support.oracle import expected_export
from support.sellers import ADMIN, build_sellers_db

from datasette_seller_export.engine.schema import ensure_table

pytestmark = pytest.mark.served


def write_config(tmp_path, batch_size, **settings):
    return served_config(tmp_path, settings=settings, batch_size=batch_size)


def get(server, path, actor=ADMIN, **kwargs):
    return httpx.get(server.url + path, cookies=server.cookies(actor), timeout=60, **kwargs)


# --- concurrent writes ----------------------------------------------------------------------


def test_writes_during_an_export_never_duplicate_or_lose_an_unchanged_row(serve, tmp_path):
    path = str(tmp_path / "sellers.db")
    db = sqlite_utils.Database(path)
    ensure_table(db)
    rng = random.Random(3)
    days = [f"2025-01-{day:02d}T00:00:00Z" for day in range(1, 29)] + [None]
    db["sellers"].insert_all(
        {
            "id": f"id-{n:05d}",
            "org_id": "w",
            "display_name": f"seller-{n}",
            "flagged": 0,
            "created_at": rng.choice(days),
        }
        for n in range(3000)
    )
    db.execute("PRAGMA journal_mode=wal")
    db.close()
    server = serve(path, *write_config(tmp_path, 50), env_extra={"TEST_BATCH_DELAY": "0.01"})

    touched, stop = set(), threading.Event()

    def writer():
        conn = sqlite3.connect(path, isolation_level=None)
        n = 0
        while not stop.is_set():
            n += 1
            victim = rng.randrange(3000)
            touched.add(f"seller-{victim}")
            if n % 3 == 0:
                conn.execute(
                    "UPDATE sellers SET deleted_at = '2026' WHERE id = ?", (f"id-{victim:05d}",)
                )
            elif n % 3 == 1:
                conn.execute(
                    "UPDATE sellers SET display_name = ? WHERE id = ?",
                    (f"renamed-{n}", f"id-{victim:05d}"),
                )
            conn.execute(
                "INSERT INTO sellers (id, org_id, display_name, flagged, created_at)"
                " VALUES (?, 'w', ?, 0, ?)",
                (f"new-{n:05d}", f"inserted-{n}", rng.choice(days)),
            )
            time.sleep(0.002)
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        response = get(server, "/export/sellers/ndjson?org_id=w")
    finally:
        stop.set()
        thread.join()
    assert response.status_code == 200
    names = [json.loads(line)["display_name"] for line in response.text.split("\n")[:-1]]
    assert len(names) == len(set(names)), "a row was written twice"
    untouched = {f"seller-{n}" for n in range(3000)} - touched
    assert len(touched) > 100 and len(untouched) > 1000  # the writer really ran during the export
    assert untouched <= set(names), "a row that existed unchanged throughout was lost"


# --- faults ---------------------------------------------------------------------------------


@pytest.fixture
def fault_db(tmp_path):
    return build_sellers_db(tmp_path / "sellers.db", {"big": 2000, "small": 5})


def assert_json_error(response, status, message):
    assert response.status_code == status
    body = response.json()
    assert body["ok"] is False and body["status"] == status and message in body["error"]


def test_a_locked_database_is_503_before_the_first_byte_and_an_abort_after(
    serve, tmp_path, fault_db
):
    server = serve(fault_db, *write_config(tmp_path, 100), env_extra={"TEST_BATCH_DELAY": "0.05"})
    locker = sqlite3.connect(fault_db, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        response = get(server, "/export/sellers/csv?org_id=big")
    finally:
        locker.execute("ROLLBACK")
    assert_json_error(response, 503, "locked by a writer")
    assert response.headers["retry-after"] == "1"

    # After the first byte: lock the database mid-stream; the client must see a broken body.
    with httpx.stream(
        "GET",
        server.url + "/export/sellers/csv?org_id=big",
        cookies=server.cookies(ADMIN),
        timeout=60,
    ) as stream:
        chunks = stream.iter_raw()
        next(chunks)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(httpx.RemoteProtocolError):
                for _ in chunks:
                    pass
        finally:
            locker.execute("ROLLBACK")
    locker.close()
    log = server.stop()
    assert (
        "reading the sellers failed before the first byte: OperationalError: database is locked"
        in log
    )
    assert "failed after the first byte; aborting the connection" in log


def test_a_corrupt_file_is_a_json_error_before_the_first_byte_and_an_abort_after(
    serve, tmp_path, fault_db
):
    server = serve(fault_db, *write_config(tmp_path, 100), env_extra={"TEST_BATCH_DELAY": "0.05"})
    original = open(fault_db, "rb").read()
    with httpx.stream(
        "GET",
        server.url + "/export/sellers/json?org_id=big",
        cookies=server.cookies(ADMIN),
        timeout=60,
    ) as stream:
        chunks = stream.iter_raw()
        next(chunks)
        with open(fault_db, "r+b") as fp:  # garbage over everything, header included
            fp.write(b"\xff" * len(original))
        with pytest.raises(httpx.RemoteProtocolError):
            for _ in chunks:
                pass
    response = get(server, "/export/sellers/json?org_id=small")
    assert response.status_code in (500, 503) and response.json()["ok"] is False
    assert "could not be read" in response.json()["error"] or "locked" in response.json()["error"]
    assert "failed after the first byte" in server.stop()


def test_a_missing_file_never_gives_a_truncated_export_that_looks_whole(serve, tmp_path, fault_db):
    server = serve(fault_db, *write_config(tmp_path, 100))
    assert get(server, "/export/sellers/csv?org_id=small").status_code == 200
    os.rename(fault_db, fault_db + ".gone")
    for fmt in ("csv", "json", "ndjson"):
        try:
            response = get(server, f"/export/sellers/{fmt}?org_id=big")
        except httpx.RemoteProtocolError:
            continue  # an incomplete transfer, as every client sees it
        if response.status_code == 200:
            # Open connections still read the unlinked file: then the export must be whole.
            assert response.text == expected_export(fault_db + ".gone", "big", fmt)
        else:
            assert response.json()["ok"] is False


def test_a_batch_past_sql_time_limit_ms_is_503(serve, tmp_path):
    path = build_sellers_db(tmp_path / "sellers.db", {"big": 20000})
    # 20 ms: a 10,000-row batch takes 50-150 ms on the machines this runs on, while Datasette's
    # own queries at startup, which the limit also bounds, take a few (1 ms failed them once).
    server = serve(path, *write_config(tmp_path, 10000, sql_time_limit_ms=20))
    response = get(server, "/export/sellers/csv?org_id=big")
    assert_json_error(response, 503, "longer than sql_time_limit_ms (20 ms)")
    assert "reading the sellers failed before the first byte: QueryInterrupted" in server.stop()


# --- hang-ups, load, leaks ------------------------------------------------------------------


# Datasette's num_sql_threads default. Each SQL thread opens its own connection to each
# database lazily, on its first query there, so those descriptors may rise to one per thread
# (plus Datasette's write connection) after the baseline without anything leaking.
SQL_THREADS = 3
DATABASE_FILE = (".db", ".db-wal", ".db-shm", ".db-journal")


def descriptor_kinds(server):
    """Open descriptors by kind: sockets, descriptors per database file, and everything else."""
    targets = server.describe_open_files()
    databases = {}
    for target in targets:
        if target.endswith(DATABASE_FILE):
            databases[target] = databases.get(target, 0) + 1
    return {
        "sockets": sum(t.startswith("socket:") for t in targets),
        "database files": databases,
        "other": sorted(t for t in targets if not t.startswith("socket:") and t not in databases),
    }


def warm_up(server, path):
    """Concurrent requests first, then wait until the descriptors are steady (a connection the
    client has just closed takes the server a moment to reap). Returns the steady kinds."""
    workers = [threading.Thread(target=get, args=(server, path)) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    previous, steady_since = None, time.monotonic()
    while time.monotonic() - steady_since < 1.0:
        current = (descriptor_kinds(server), server.threads())
        if current != previous:
            previous, steady_since = current, time.monotonic()
        time.sleep(0.1)
    return previous


def assert_nothing_leaked(server, baseline, timeout=30):
    """Sockets back to the baseline, no database file open more than once per SQL thread and
    the write connection, no other descriptor new, no new thread."""
    kinds, threads = baseline
    deadline = time.monotonic() + timeout
    while True:
        now = descriptor_kinds(server)
        if (
            now["sockets"] <= kinds["sockets"]
            and set(now["database files"]) == set(kinds["database files"])
            and max(now["database files"].values()) <= SQL_THREADS + 1
            and now["other"] == kinds["other"]
            and server.threads() <= threads
        ):
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"leak: {now}, {server.threads()} threads; before: {kinds}, {threads} threads"
            )
        time.sleep(0.2)


def test_hundreds_of_clients_hanging_up_leak_nothing(serve, tmp_path):
    path = build_sellers_db(tmp_path / "sellers.db", {"big": 20000, "small": 30})
    server = serve(path, *write_config(tmp_path, 100))
    baseline = warm_up(server, "/export/sellers/csv?org_id=big")
    full_batches = 20000 // 100
    before = httpx.get(server.url + "/-/test/batches").json()["count"]
    rng = random.Random(7)
    clients = [
        threading.Thread(
            target=server.hang_up_after,
            args=(
                f"/export/sellers/{rng.choice(['csv', 'json', 'ndjson'])}?org_id=big",
                ADMIN,
                rng.choice([0, 1, 500, 20_000, 200_000, 1_000_000]),
            ),
        )
        for _ in range(200)
    ]
    for group in range(0, len(clients), 20):
        for client in clients[group : group + 20]:
            client.start()
        for client in clients[group : group + 20]:
            client.join()
    time.sleep(1)
    batches = httpx.get(server.url + "/-/test/batches").json()["count"] - before
    assert batches < 200 * full_batches / 4, f"abandoned exports ran on: {batches} batches"
    assert_nothing_leaked(server, baseline)
    response = get(server, "/export/sellers/ndjson?org_id=big")
    assert response.text == expected_export(path, "big", "ndjson")
    assert "client disconnected, export stopped" in server.stop()


def test_load_every_response_complete_and_correct_and_nothing_grows(serve, tmp_path):
    path = build_sellers_db(tmp_path / "sellers.db", {"a": 3000, "b": 500, "c": 1})
    server = serve(path, *write_config(tmp_path, 200))
    expected = {
        (org, fmt): expected_export(path, org, fmt)
        for org in "abc"
        for fmt in ("csv", "json", "ndjson")
    }
    baseline = warm_up(server, "/export/sellers/csv?org_id=a")
    rss = server.rss_kb()
    failures, counts = [], {"exports": 0, "pages": 0}
    deadline = time.monotonic() + 6

    def client(seed):
        rng = random.Random(seed)
        with httpx.Client(cookies=server.cookies(ADMIN), timeout=60) as http:
            while time.monotonic() < deadline:
                org = rng.choice("abc")
                if rng.random() < 0.6:
                    fmt = rng.choice(["csv", "json", "ndjson"])
                    body = http.get(f"{server.url}/export/sellers/{fmt}?org_id={org}").text
                    if body != expected[(org, fmt)]:
                        failures.append((org, fmt))
                    counts["exports"] += 1
                else:
                    rows, url = (
                        [],
                        f"{server.url}/-/sellers.json?org_id={org}&_size={rng.randint(1, 500)}",
                    )
                    while url:
                        page = http.get(url).json()
                        rows += page["rows"]
                        url = page["next_url"]
                        counts["pages"] += 1
                    if rows != json.loads(expected[(org, "json")]):
                        failures.append((org, "api"))

    workers = [threading.Thread(target=client, args=(seed,)) for seed in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    assert counts["exports"] > 20 and counts["pages"] > 20
    assert_nothing_leaked(server, baseline)
    assert server.rss_kb() - rss < 30_000, "memory grew by more than 30 MB"


def test_two_replicas_share_paging_tokens(serve, tmp_path):
    path = build_sellers_db(tmp_path / "sellers.db", {"a": 120})
    args = write_config(tmp_path, 50)
    one, two = serve(path, *args), serve(path, *args)
    first = get(one, "/-/sellers.json?org_id=a&_size=50").json()
    rows, token, servers = first["rows"], first["next"], [two, one]
    while token:
        page = get(servers[0], f"/-/sellers.json?org_id=a&_size=50&_next={token}").json()
        rows += page["rows"]
        token = page["next"]
        servers.reverse()
    assert rows == json.loads(expected_export(path, "a", "json"))
