"""Benchmark `seller-export sync` and `import` against a real PostgreSQL server.

    python benchmarks/sync.py                       # 1,000,000 sellers, both data shapes
    python benchmarks/sync.py --rows 200000 --shapes plain      # a quick look

It starts a throwaway PostgreSQL cluster on this machine (tests/support/postgres.py), loads the
production table, and runs the command line as a user would, timing each command's wall time:
a first sync into a new mirror (the rows committed, then the sort and search indexes built),
a sync after --changed rows changed, a sync with nothing changed, and `import` of the same
rows dumped by `psql \\copy ... CSV HEADER` in a UTC session and in a Europe/Berlin one (whose
timestamps the import must convert). Two shapes of data: the demo's (awkward names, unicode,
NULLs) and plain (mostly ASCII names, few NULLs), as production tables often hold.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import psycopg

from datasette_seller_export.mirror.demo import demo_rows
from datasette_seller_export.mirror.records import COLUMNS

# The test support (a real server, PostgreSQL, the oracle) is in the repository's tests/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from support.postgres import Cluster, load_production  # noqa: E402

PLAIN_SQL = """
INSERT INTO sellers SELECT
    'seller-' || lpad(n::text, 8, '0'), 'org-' || (n %% 20), 'Seller number ' || n,
    'seller number ' || n, (ARRAY['ebay', 'etsy', 'amazon'])[n %% 3 + 1], (n::bigint * 7919)::text,
    n %% 500 + 1, CASE WHEN n %% 10 = 0 THEN NULL ELSE 70 + (n %% 300) / 10.0 END,
    n %% 250000, n %% 20 = 0, 'run-' || (n %% 1000), 'run-' || (n %% 997),
    timestamptz '2024-01-01' + n * interval '17 seconds 123457 microseconds',
    timestamptz '2024-06-01' + n * interval '3 seconds',
    CASE WHEN n %% 25 = 0 THEN timestamptz '2024-07-01' ELSE NULL END
FROM generate_series(1, %s) AS n
"""


def cli(*args, wal=None):
    """Run `datasette seller-export ARGS`: its wall time, its last line of output, and the
    largest the `wal` file grew meanwhile (bytes)."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "datasette", "seller-export", *map(str, args)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    largest = 0
    while process.poll() is None:
        if wal and os.path.exists(wal):
            largest = max(largest, os.path.getsize(wal))
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"seller-export {args[0]} failed:\n{out}{err}")
    return seconds, out.strip().splitlines()[-1], largest


def load(cluster, shape, rows):
    if shape == "demo":
        load_production(cluster.url, demo_rows(rows, 20, 1), COLUMNS)
    else:
        load_production(cluster.url, [], COLUMNS)
        with psycopg.connect(cluster.url, autocommit=True) as conn:
            conn.execute(PLAIN_SQL, (rows,))
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE sellers")  # as production's autovacuum would have


def dump_csv(cluster, path, time_zone):
    """The dump a user makes with psql, in a session whose time zone is `time_zone`."""
    subprocess.run(
        ["psql", "-X", "-q", cluster.url, "-c", f"\\copy sellers TO '{path}' (FORMAT csv, HEADER)"],
        check=True,
        env=dict(os.environ, PGTZ=time_zone),
    )


def change_rows(cluster, count):
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute(
            "UPDATE sellers SET times_seen = times_seen + 1, updated_at = now() WHERE id IN "
            "(SELECT id FROM sellers ORDER BY md5(id) LIMIT %s)",
            (count,),
        )


def index_seconds(line):
    match = re.search(r"indexes built in ([0-9.]+) s", line)
    return float(match.group(1)) if match else 0.0


def measure(cluster, shape, rows, changed, folder):
    load(cluster, shape, rows)
    mirror = os.path.join(folder, f"{shape}.db")
    figures = []

    def row(label, seconds, count, wal_bytes, note=""):
        size = f"{wal_bytes / 1e6:,.1f} MB" if wal_bytes else ""
        figures.append((shape, label, seconds, count / seconds if count else None, size, note))
        print(*figures[-1], sep="  ", flush=True)  # as it goes: a long run shows progress

    wal = mirror + "-wal"
    seconds, line, wal_bytes = cli("sync", mirror, "--from", cluster.url, wal=wal)
    row("first sync, rows committed", seconds - index_seconds(line), rows, 0)
    row("first sync, with sort and search indexes", seconds, rows, wal_bytes, _indexes_note(line))
    change_rows(cluster, changed)
    seconds, line, wal_bytes = cli("sync", mirror, "--from", cluster.url, wal=wal)
    row(f"sync of {changed:,} changed rows", seconds, changed, wal_bytes, line.split(": ", 1)[1])
    seconds, line, wal_bytes = cli("sync", mirror, "--from", cluster.url, wal=wal)
    row("sync, nothing changed", seconds, 0, wal_bytes, line.split(": ", 1)[1])
    for time_zone in ("UTC", "Europe/Berlin"):
        dump = os.path.join(folder, f"{shape}-{time_zone.replace('/', '-')}.csv")
        dump_csv(cluster, dump, time_zone)
        imported = os.path.join(folder, f"{shape}-imported.db")
        if os.path.exists(imported):
            os.remove(imported)
        seconds, line, _ = cli("import", imported, dump)
        row(f"import of a CSV dump ({time_zone} session)", seconds, rows, 0, _indexes_note(line))
        os.remove(dump)
    return figures


def _indexes_note(line):
    match = re.search(r"indexes built in ([0-9.]+) s", line)
    return f"indexes {match.group(1)} s" if match else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=10_000)
    parser.add_argument("--shapes", default="demo,plain")
    args = parser.parse_args()
    cluster = Cluster().start()
    figures = []
    try:
        with tempfile.TemporaryDirectory(prefix="sync-bench-") as folder:
            for shape in args.shapes.split(","):
                figures += measure(cluster, shape, args.rows, args.changed, folder)
    finally:
        cluster.stop()
    print(f"\n{args.rows:,} sellers; PostgreSQL on the same machine; wall time of each command\n")
    print("| data | command | seconds | rows/s | mirror's WAL | |")
    print("|---|---|---:|---:|---:|---|")
    for shape, label, seconds, rate, wal, note in figures:
        rate_text = f"{rate:,.0f}" if rate else ""
        print(f"| {shape} | {label} | {seconds:.2f} | {rate_text} | {wal} | {note} |")


if __name__ == "__main__":
    main()
