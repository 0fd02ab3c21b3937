"""Benchmark `seller-export sync --follow` against a real PostgreSQL server.

    python benchmarks/follow.py                       # 1,000,000 sellers, demo and plain
    python benchmarks/follow.py --rows 200000 --shapes plain --lag-seconds 20   # a quick look

It starts a throwaway PostgreSQL cluster with wal_level=logical (tests/support/postgres.py) on
this machine, loads the production table (the shapes of benchmarks/sync.py), then measures:

- the first copy as a user runs it, `sync --follow` on a new mirror, until it streams;
- the lag from a production commit to the row being readable in the mirror, at --rate single-
  change transactions a second for --lag-seconds (inserts, updates, soft and hard deletes; the
  lag is read on the inserts, by polling the mirror), with the biggest organisation's CSV
  exported by curl from `datasette serve` on the mirror before and during the run;
- bursts of 100,000 changes made while the follower is stopped, and the time it takes to apply
  them once started: one transaction of 100,000 updates, 1,000 transactions of 100 inserts,
  and 20,000 transactions of 5 mixed changes;
- last, the floors of a first copy, each part alone in this process: psycopg's COPY in text
  and in binary with no parsing, the sync's reader (COPY, parsing and typing), and SQLite's
  `executemany` of the typed records into a new table.
"""

import argparse
import os
import random
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import psycopg
import sqlite_utils

from datasette_seller_export.engine.schema import ensure_table
from datasette_seller_export.mirror.postgres import open_source
from datasette_seller_export.mirror.records import COLUMNS

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from support.postgres import Cluster  # noqa: E402
from support.server import Server, actor_cookie  # noqa: E402
from sync import load  # noqa: E402

BURST = 100_000


def floors(url, folder):
    """Rows a second of each part of a first copy, alone."""
    figures = {}
    select = f"SELECT {', '.join(COLUMNS)} FROM sellers"
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY ({select}) TO STDOUT") as copy:
            count = sum(1 for _ in copy)
        figures["COPY text, read, not parsed"] = count / (time.perf_counter() - started)
        started = time.perf_counter()
        with conn.cursor().copy(f"COPY ({select}) TO STDOUT (FORMAT BINARY)") as copy:
            copy.set_types(
                ["text"] * 6
                + ["int4", "float8", "int4", "bool", "text", "text"]
                + ["timestamptz"] * 3
            )
            count = sum(1 for _ in copy.rows())
        figures["COPY binary, typed by psycopg"] = count / (time.perf_counter() - started)
    with open_source(url, "sellers") as source:
        started = time.perf_counter()
        records = list(source.records())
        figures["the sync's reader: COPY, parsed, typed"] = len(records) / (
            time.perf_counter() - started
        )
    path = os.path.join(folder, "floor.db")
    db = sqlite_utils.Database(path)
    ensure_table(db, "sellers", indexes=None)
    started = time.perf_counter()
    with db.conn:
        db.conn.executemany(
            f"INSERT INTO sellers ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
            records,
        )
    figures["SQLite executemany of typed records, one commit"] = len(records) / (
        time.perf_counter() - started
    )
    db.close()
    os.remove(path)
    return figures


class Follower:
    """`sync --follow` as a process; `lines` are its stderr lines with when each came."""

    def __init__(self, mirror, url):
        command = [sys.executable, "-m", "datasette", "seller-export", "sync", mirror]
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [*command, "--from", url, "--follow"],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.process.stderr:
            self.lines.append((time.monotonic(), line.strip()))

    def wait_for(self, pattern, timeout=600):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for when, line in self.lines:
                if re.search(pattern, line):
                    return when, line
            if self.process.poll() is not None:
                break
            time.sleep(0.01)
        raise SystemExit(f"the follower did not say {pattern!r}: {self.lines[-5:]}")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


def first_copy(url, mirror, rows):
    follower = Follower(mirror, url)
    copying, _ = follower.wait_for(r"copying sellers")
    copied, line = follower.wait_for(r"^\S+ copied: ")
    streaming, _ = follower.wait_for(r"following .* from")
    indexes = float(re.search(r"indexes built in ([0-9.]+) s", line).group(1))
    committed = copied - copying - indexes
    return follower, {
        "rows committed (from the copy's start)": (committed, rows / committed),
        "streaming, indexes built (from the process's start)": (
            streaming - follower.started,
            rows / (streaming - follower.started),
        ),
    }


def sample_ids(url, count=20_000):
    with psycopg.connect(url) as conn:
        return [i for (i,) in conn.execute("SELECT id FROM sellers TABLESAMPLE SYSTEM (5)")][:count]


def lag_run(url, mirror, rate, seconds, exporter, watch=True, prefix="lag"):
    """Single-change transactions at `rate` a second; the lag of each insert (unless not
    `watch`: no follower runs), and the exports `exporter()` makes meanwhile. A writer that
    fails stops the run: a figure made without its writes would be false."""
    ids = sample_ids(url)
    rng = random.Random(1)
    committed, seen = {}, {}
    done = threading.Event()

    failed = []

    def write():
        try:
            write_changes()
        except BaseException as error:  # noqa: BLE001 - the run reports it
            failed.append(error)
        finally:
            done.set()

    def write_changes():
        with psycopg.connect(url, autocommit=True) as conn:
            start = time.monotonic()
            for number in range(int(rate * seconds)):
                delay = start + number / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                kind = number % 10
                if kind < 5:
                    conn.execute(
                        "INSERT INTO sellers (id, org_id, display_name, created_at) "
                        "VALUES (%s, 'org-lag', 'Lag', now())",
                        (f"{prefix}-{number}",),
                    )
                    committed[number] = time.monotonic()
                elif kind < 8:
                    conn.execute(
                        "UPDATE sellers SET times_seen = times_seen + 1, updated_at = now() "
                        "WHERE id = %s",
                        (rng.choice(ids),),
                    )
                elif kind < 9:
                    conn.execute(
                        "UPDATE sellers SET deleted_at = now() WHERE id = %s", (rng.choice(ids),)
                    )
                else:
                    conn.execute("DELETE FROM sellers WHERE id = %s", (ids.pop(),))

    def watch_inserts():
        # The inserts commit in order, so each is looked for once the one before it is seen.
        conn = sqlite3.connect(mirror)
        for number in range(0, int(rate * seconds), 10):
            for insert in range(number, number + 5):
                while insert not in committed and not done.is_set():
                    time.sleep(0.001)
                if insert not in committed:
                    break
                deadline = time.monotonic() + 60
                while not conn.execute(
                    "SELECT 1 FROM sellers WHERE id = ?", (f"{prefix}-{insert}",)
                ).fetchone():
                    if time.monotonic() > deadline:
                        raise SystemExit(f"{prefix}-{insert} never reached the mirror")
                    time.sleep(0.002)
                seen[insert] = time.monotonic()
        conn.close()

    writer, watcher = threading.Thread(target=write), threading.Thread(target=watch_inserts)
    writer.start()
    if watch:
        watcher.start()
    time.sleep(min(10, seconds / 3))
    exports = [exporter() for _ in range(3)]
    writer.join()
    if failed:
        raise SystemExit(f"the writer failed: {failed[0]}")
    if not watch:
        return None, exports
    watcher.join(60)
    lags = sorted((seen[n] - committed[n]) * 1000 for n in seen)
    achieved = len(committed) * 2 / (max(committed.values()) - min(committed.values()))
    return {
        "changes a second, as written": achieved,
        "inserts measured": len(lags),
        "lag p50 ms": statistics.median(lags),
        "lag p99 ms": lags[int(len(lags) * 0.99) - 1],
        "lag max ms": lags[-1],
    }, exports


def bursts(url, mirror):
    """Each burst made with the follower stopped, then drained: changes a second."""
    figures = {}
    with psycopg.connect(url, autocommit=True) as conn:
        ids = [
            i
            for (i,) in conn.execute(
                "SELECT id FROM sellers ORDER BY md5(id::text) LIMIT %s", (BURST,)
            )
        ]

    def one_transaction(conn):
        conn.execute(
            "UPDATE sellers SET times_seen = times_seen + 1, updated_at = now() WHERE id = ANY(%s)",
            (ids,),
        )
        conn.commit()

    def inserts(conn):
        for batch in range(1_000):
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO sellers (id, org_id, display_name, created_at) "
                    "VALUES (%s, 'org-burst', 'Burst', now())",
                    [(f"burst-{batch}-{n}",) for n in range(100)],
                )
            conn.commit()

    def mixed(conn):
        rng = random.Random(2)
        for number in range(20_000):
            for step in range(5):
                id_ = ids[(number * 5 + step) % len(ids)]
                if step == 4 and number % 4 == 0:
                    conn.execute("UPDATE sellers SET deleted_at = now() WHERE id = %s", (id_,))
                else:
                    conn.execute(
                        "UPDATE sellers SET feedback_percent = %s, updated_at = now() "
                        "WHERE id = %s",
                        (rng.random() * 100, id_),
                    )
            conn.commit()

    for label, make in (
        ("one transaction of 100,000 updates", one_transaction),
        ("1,000 transactions of 100 inserts", inserts),
        ("20,000 transactions of 5 changes", mixed),
    ):
        with psycopg.connect(url) as conn:
            make(conn)
            sentinel = f"sentinel-{len(figures)}"
            conn.execute(
                "INSERT INTO sellers (id, org_id) VALUES (%s, 'org-sentinel')", (sentinel,)
            )
            conn.commit()
        follower = Follower(mirror, url)
        streaming, _ = follower.wait_for(r"following .* from")
        with psycopg.connect(url) as conn:
            (walsender,) = conn.execute(
                "SELECT active_pid FROM pg_replication_slots WHERE active"
            ).fetchone()
        cpu_before = cpu_seconds(follower.process.pid), cpu_seconds(walsender)
        check = sqlite3.connect(mirror)
        while not check.execute("SELECT 1 FROM sellers WHERE id = ?", (sentinel,)).fetchone():
            time.sleep(0.005)
        drained = time.monotonic() - streaming
        cpu = [
            cpu_seconds(pid) - before
            for pid, before in zip((follower.process.pid, walsender), cpu_before, strict=True)
        ]
        check.close()
        follower.stop()
        figures[label] = (drained, BURST / drained, *cpu)
        print(
            f"  burst: {label}: {drained:.2f} s, {BURST / drained:,.0f} changes/s, CPU s: "
            f"follower {cpu[0]:.2f}, walsender {cpu[1]:.2f}",
            flush=True,
        )
    return figures


def cpu_seconds(pid):
    """User and system CPU seconds the process has used (Linux's /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def biggest_org(mirror):
    with sqlite3.connect(mirror) as conn:
        return conn.execute(
            "SELECT org_id, count(*) FROM sellers WHERE deleted_at IS NULL "
            "GROUP BY org_id ORDER BY 2 DESC LIMIT 1"
        ).fetchone()


def reset(url):
    """No slot or publication of the shape before: its table was dropped and made anew."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots")
        for (publication,) in conn.execute("SELECT pubname FROM pg_publication").fetchall():
            conn.execute(f'DROP PUBLICATION "{publication}"')


def measure(cluster, shape, args, folder):
    reset(cluster.url)
    load(cluster, shape, args.rows)
    print(f"{shape}: production loaded", flush=True)
    results = {}
    mirror = os.path.join(folder, f"{shape}.db")
    follower, results["first copy"] = first_copy(cluster.url, mirror, args.rows)
    for label, (seconds, rate) in results["first copy"].items():
        print(f"  first copy: {label}: {seconds:.1f} s, {rate:,.0f} rows/s", flush=True)
    org, org_rows = biggest_org(mirror)
    server = Server([mirror, "--root"], os.path.join(folder, "serve.log"))
    cookie = actor_cookie({"id": "root"})
    url = f"{server.url}/export/sellers/csv?org_id={org}"

    def exporter():
        started = time.perf_counter()
        subprocess.run(
            ["curl", "-sf", "-o", "/dev/null", "-b", f"ds_actor={cookie}", url], check=True
        )
        return org_rows / (time.perf_counter() - started)

    try:
        idle = [exporter() for _ in range(3)]
        cpu_before, started = cpu_seconds(follower.process.pid), time.monotonic()
        lag, during = lag_run(cluster.url, mirror, args.rate, args.lag_seconds, exporter)
        lag["follower's CPU, share of one core"] = (
            cpu_seconds(follower.process.pid) - cpu_before
        ) / (time.monotonic() - started)
        follower.stop()
        # The same writes with no follower: what production's load alone costs an export here.
        _, unfollowed = lag_run(
            cluster.url,
            mirror,
            args.rate,
            min(args.lag_seconds, 30),
            exporter,
            watch=False,
            prefix="unfollowed",
        )
        results["export"] = {
            "idle": statistics.median(idle),
            "while production writes, not followed": statistics.median(unfollowed),
            "while production writes, followed": statistics.median(during),
        }
        results["lag"] = lag
        print(f"  lag: {lag}", flush=True)
        print(f"  export of {org} ({org_rows:,} rows), rows/s: {results['export']}", flush=True)
        results["bursts"] = bursts(cluster.url, mirror)
    finally:
        server.stop()
    # Last: they write and hold as much as the copy, which measured after them ran at 0.7 of
    # its speed alone (a 400 MB file written and deleted, a million records in memory).
    results["floors"] = floors(cluster.url, folder)
    for label, rate in results["floors"].items():
        print(f"  floor: {label}: {rate:,.0f} rows/s", flush=True)
    results["org"] = (org, org_rows)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--shapes", default="demo,plain")
    parser.add_argument("--rate", type=float, default=1_000, help="changes a second")
    parser.add_argument("--lag-seconds", type=float, default=60)
    args = parser.parse_args()
    # synchronous_commit as production has it: the walsender sends only WAL that is flushed,
    # and with it off the WAL writer flushes every 200 ms, which the lag would measure.
    cluster = Cluster(settings={"synchronous_commit": "on"}).start()
    table = {}
    try:
        with tempfile.TemporaryDirectory(prefix="follow-bench-") as folder:
            for shape in args.shapes.split(","):
                table[shape] = measure(cluster, shape, args, folder)
    finally:
        cluster.stop()
    print(f"\n{args.rows:,} sellers; PostgreSQL 15 on the same machine\n")
    print("| shape | what | figure |")
    print("|---|---|---:|")
    for shape, results in table.items():
        for label, rate in results["floors"].items():
            print(f"| {shape} | floor: {label} | {rate:,.0f} rows/s |")
        for label, (seconds, rate) in results["first copy"].items():
            print(f"| {shape} | first copy: {label} | {seconds:.1f} s, {rate:,.0f} rows/s |")
        lag = results["lag"]
        print(
            f"| {shape} | changes a second written | {lag['changes a second, as written']:,.0f} |"
        )
        for key in ("lag p50 ms", "lag p99 ms", "lag max ms"):
            print(f"| {shape} | {key} ({lag['inserts measured']:,} inserts) | {lag[key]:,.1f} |")
        share = lag["follower's CPU, share of one core"]
        print(f"| {shape} | the follower's CPU meanwhile, of one core | {share:.0%} |")
        org, org_rows = results["org"]
        for when, rate in results["export"].items():
            what = f"CSV export of {org} ({org_rows:,} rows), {when}"
            print(f"| {shape} | {what} | {rate:,.0f} rows/s |")
        for label, (seconds, rate, follower, walsender) in results["bursts"].items():
            print(
                f"| {shape} | burst: {label} | {seconds:.2f} s, {rate:,.0f} changes/s "
                f"(CPU s: follower {follower:.2f}, walsender {walsender:.2f}) |"
            )


if __name__ == "__main__":
    main()
