"""Longer reliability runs than CI has time for, bounded in time and count.

    python stress/run.py                         # 60 s of load, then 500 hang-ups
    python stress/run.py --seconds 300 --clients 32 --hang-ups 2000

Against one `datasette serve` on 127.0.0.1, with demo data made by `datasette seller-export
demo`: CLIENTS clients export and page through the JSON API for SECONDS seconds while a writer
inserts rows into another organisation (WAL mode); every export and every paging run is
compared with the direct SQLite query. Then HANG_UPS clients start exports and hang up after a
random number of bytes. Before and after, the server's open files, threads and memory are
read from /proc. Exits non-zero if anything was wrong.
"""

import argparse
import hashlib
import json
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time

import httpx  # the one package beyond the plain install: pip install httpx

# The test support (a real server, PostgreSQL, the oracle) is in the repository's tests/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from support.oracle import expected_export  # noqa: E402
from support.server import Server, make_demo_database  # noqa: E402

ADMIN = {"id": "root"}
FORMATS = ("csv", "json", "ndjson")


def digest(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode("utf-8")).hexdigest()


def snapshot(server):
    return {
        "open files": server.open_files(),
        "threads": server.threads(),
        "RSS MB": server.rss_kb() // 1024,
    }


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--hang-ups", type=int, default=500)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="seller-stress-")
    db_path = os.path.join(work, "sellers.db")
    make_demo_database(db_path, args.rows, orgs=8, seed=11)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=wal")
    conn.close()
    orgs = ["org-1", "org-3", "org-8"]
    expected = {(o, f): digest(expected_export(db_path, o, f)) for o in orgs for f in FORMATS}
    expected_rows = {o: json.loads(expected_export(db_path, o, "json")) for o in orgs}

    server = Server(
        [db_path, "--root", "--setting", "sql_time_limit_ms", "5000"],
        os.path.join(work, "server.log"),
    )
    cookies = server.cookies(ADMIN)
    try:
        # Warm up so that the SQL thread pool is at its full size before counting.
        workers = [
            threading.Thread(
                target=httpx.get,
                args=(server.url + "/export/sellers/csv?org_id=org-1",),
                kwargs={"cookies": cookies, "timeout": 60},
            )
            for _ in range(6)
        ]
        [w.start() for w in workers]
        [w.join() for w in workers]
        before = snapshot(server)
        counts = {
            "exports": 0,
            "export bytes": 0,
            "API pages": 0,
            "wrong or incomplete": 0,
            "errors": 0,
            "writes": 0,
        }
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds

        def add(name, amount=1):
            with lock:
                counts[name] += amount

        def client(seed):
            rng = random.Random(seed)
            with httpx.Client(cookies=cookies, timeout=120) as http:
                while time.monotonic() < deadline:
                    org = rng.choice(orgs)
                    try:
                        if rng.random() < 0.5:
                            fmt = rng.choice(FORMATS)
                            body = http.get(
                                f"{server.url}/export/sellers/{fmt}?org_id={org}"
                            ).content
                            add("exports")
                            add("export bytes", len(body))
                            if digest(body) != expected[(org, fmt)]:
                                add("wrong or incomplete")
                        else:
                            rows, url = (
                                [],
                                f"{server.url}/-/sellers.json?org_id={org}"
                                f"&_size={rng.randint(50, 1000)}",
                            )
                            while url and time.monotonic() < deadline + 60:
                                page = http.get(url).json()
                                rows += page["rows"]
                                url = page["next_url"]
                                add("API pages")
                            if rows != expected_rows[org]:
                                add("wrong or incomplete")
                    except httpx.HTTPError:
                        add("errors")

        def writer():
            # Inserts into an organisation the clients do not read, so their answers stay fixed.
            write = sqlite3.connect(db_path, isolation_level=None)
            n = 0
            while time.monotonic() < deadline:
                n += 1
                write.execute(
                    "INSERT INTO sellers (id, org_id, display_name, created_at)"
                    " VALUES (?, 'org-2', ?, ?)",
                    (
                        f"stress-{n}",
                        f"written during load {n}",
                        f"2025-{n % 12 + 1:02d}-01T00:00:00Z",
                    ),
                )
                add("writes")
                time.sleep(0.005)
            write.close()

        threads = [threading.Thread(target=client, args=(seed,)) for seed in range(args.clients)]
        threads.append(threading.Thread(target=writer))
        [t.start() for t in threads]
        [t.join() for t in threads]
        time.sleep(2)
        after_load = snapshot(server)

        # Hang-ups at random points.
        hang_rng = random.Random(5)
        hang_ups = [
            (
                f"/export/sellers/{hang_rng.choice(FORMATS)}?org_id={hang_rng.choice(orgs)}",
                ADMIN,
                hang_rng.choice([0, 1, 1000, 100_000, 1_000_000]),
            )
            for _ in range(args.hang_ups)
        ]
        for start in range(0, args.hang_ups, 25):
            group = [
                threading.Thread(target=server.hang_up_after, args=hang_up)
                for hang_up in hang_ups[start : start + 25]
            ]
            [t.start() for t in group]
            [t.join() for t in group]
        time.sleep(3)
        after_hang_ups = snapshot(server)
        healthy = (
            digest(
                httpx.get(
                    f"{server.url}/export/sellers/csv?org_id=org-1", cookies=cookies, timeout=60
                ).content
            )
            == expected[("org-1", "csv")]
        )
    finally:
        log = server.stop()

    stopped = log.count("client disconnected, export stopped")
    print("| what | figure |\n|---|---|")
    print(
        f"| load | {args.clients} clients for {args.seconds:.0f} s on {args.rows:,} demo sellers,"
        " a writer inserting meanwhile (WAL) |"
    )
    for name, value in counts.items():
        print(f"| {name} | {value:,} |")
    print(
        f"| hang-ups | {args.hang_ups:,} clients; {stopped:,} exports stopped early"
        " (the rest had finished) |"
    )
    print(f"| server before load | {before} |")
    print(f"| after load | {after_load} |")
    print(f"| after hang-ups | {after_hang_ups} |")
    print(f"| healthy afterwards (a full export correct) | {healthy} |")
    grew = (
        after_hang_ups["open files"] > before["open files"]
        or after_hang_ups["threads"] > before["threads"]
    )
    bad = counts["wrong or incomplete"] or counts["errors"] or not healthy or grew
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
