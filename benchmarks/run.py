"""Benchmark the seller export against Datasette's own CSV stream and the sqlite3 shell.

    python benchmarks/run.py                     # 1,000,000 sellers in 20 orgs, 3 runs
    python benchmarks/run.py --rows 200000 --runs 2 --skip-datasette   # a quick look

For each shape of data (--shapes): `demo`, made by `datasette seller-export demo` (awkward
names, unicode, NULLs), and `plain`, made in SQL (plain ASCII names, 6% of them awkward: a
quote and a comma, unicode, a line break), both kept in benchmarks/results/ for the next run.
It starts `datasette serve` on 127.0.0.1 and measures, in one run and interleaved: the
plugin's CSV, JSON and NDJSON exports, Datasette's `.csv?_stream=on&_size=max`, and the
`sqlite3` shell writing CSV, for three organisation sizes. Then the biggest organisation at
each `parallel_batches` of --parallel (each server given enough read threads for it), four
exports at once against one at parallelism 1 with a small request polled meanwhile, and,
with --batch-sizes, the plugin at several batch sizes. Clients are curl and the sqlite3
shell (C programs, so the client costs little of the two cores). A measurement repeats its
request until it has lasted half a second (one request for the big organisations); figures
are medians of --runs runs with their spread (min-max).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

import sqlite_utils

from datasette_seller_export.engine.schema import ensure_table

# The test support (a real server, PostgreSQL, the oracle) is in the repository's tests/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from support.server import Server as DatasetteServer  # noqa: E402
from support.server import make_demo_database  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

RESULTS = os.path.join(HERE, "results")
MIN_MEASURE_SECONDS = 0.5
COLUMNS = (
    "display_name, normalized_name, platform, platform_id, times_seen, feedback_percent, "
    "feedback_count, flagged, created_at"
)


def ensure_tool(command, package):
    if shutil.which(command) is None:
        print(f"installing {package} from Debian's packages", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True)


# Plain sellers: ASCII names but for 6% (a quote and a comma, unicode, a line break), 10% of
# feedback_percent NULL, 3% soft-deleted, timestamps in the mirror's form, in organisations
# of equal size (--plain-orgs; 1,000,000 rows in 5: 194,000 live sellers each).
PLAIN_SQL = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows)
INSERT INTO sellers (id, org_id, display_name, normalized_name, platform, platform_id,
    times_seen, feedback_percent, feedback_count, flagged, first_seen_run_id, last_seen_run_id,
    created_at, updated_at, deleted_at)
SELECT printf('seller-%08d', i), 'org-' || (i % :orgs),
    CASE i % 50 WHEN 0 THEN 'The "Best" Deals, ' || i WHEN 1 THEN 'Zoë Müller ' || i
        WHEN 2 THEN 'Two' || char(10) || 'lines ' || i ELSE 'Seller number ' || i END,
    'seller number ' || i, CASE i % 3 WHEN 0 THEN 'ebay' WHEN 1 THEN 'etsy' ELSE 'amazon' END,
    CAST(i * 7919 AS TEXT), i % 500 + 1,
    CASE WHEN i % 10 = 0 THEN NULL ELSE 70 + (i % 300) / 10.0 END, i % 250000, i % 20 = 0,
    'run-' || (i % 1000), 'run-' || (i % 997),
    strftime('%Y-%m-%dT%H:%M:%S', 1704067200 + i * 17, 'unixepoch')
        || printf('.%06dZ', (i * 123457) % 1000000),
    strftime('%Y-%m-%dT%H:%M:%S.000000Z', 1717200000 + i * 3, 'unixepoch'),
    CASE WHEN i % 33 = 0 THEN '2024-07-01T00:00:00.000000Z' END
FROM n
"""


def build_database(rows, orgs, seed, shape="demo"):
    os.makedirs(RESULTS, exist_ok=True)
    name = f"sellers-{rows}-{orgs}-{seed}" if shape == "demo" else f"sellers-plain-{rows}-{orgs}"
    path = os.path.join(RESULTS, name + ".db")
    if not os.path.exists(path):
        print(f"building {path}", file=sys.stderr)
        if shape == "demo":
            make_demo_database(path + ".tmp", rows, orgs, seed)
        else:
            db = sqlite_utils.Database(path + ".tmp")
            ensure_table(db, indexes=None)
            with db.conn:
                db.execute(PLAIN_SQL, {"rows": rows, "orgs": orgs})
            ensure_table(db)  # the indexes, once the rows are in
            db.close()
        os.rename(path + ".tmp", path)
    return path


def live_counts(db_path):
    out = subprocess.run(
        [
            "sqlite3",
            db_path,
            "SELECT org_id, count(*) FROM sellers WHERE deleted_at IS NULL "
            "GROUP BY org_id ORDER BY 2 DESC",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return {org: int(n) for org, n in (line.split("|") for line in out.split())}


def pick_sizes(counts):
    """The organisations nearest 10k and 100k live rows, and the biggest."""
    orgs = sorted(counts, key=counts.get)
    picks = []
    for target in (10_000, 100_000):
        org = min(orgs, key=lambda o: abs(counts[o] - target))
        if org not in picks:
            picks.append(org)
    if orgs[-1] not in picks:
        picks.append(orgs[-1])
    return picks


class Server(DatasetteServer):
    """`datasette serve` over the benchmark database, with its peak RSS sampled on demand."""

    def __init__(
        self,
        db_path,
        batch_size=None,
        parallel=None,
        settings=(),
        plugin=None,
        plugins=(),
        log="server.log",
    ):
        """`plugin`: more of this plugin's settings; `plugins`: the opt-in plugins to load
        beside it (support/server.OPT_IN_PLUGINS); `log`: its file in benchmarks/results/."""
        args = [db_path, "--root", "--setting", "sql_time_limit_ms", "5000"]
        for name, value in settings:  # more of Datasette's settings, as (name, value)
            args += ["--setting", name, str(value)]
        plugin = dict(plugin or {})
        if batch_size:
            plugin["batch_size"] = batch_size
        if parallel:
            plugin["parallel_batches"] = parallel
            # Exports use at most num_sql_threads - 1 threads: enough for `parallel`.
            args += ["--setting", "num_sql_threads", str(max(3, parallel + 1))]
        if plugin:
            args += ["-s", "plugins", json.dumps({"datasette-seller-export": plugin})]
        super().__init__(args, os.path.join(RESULTS, log), plugins=plugins)
        self.cookie = "ds_actor=" + self.cookies({"id": "root"})["ds_actor"]
        self.peak_kb = 0
        self._sampling = False

    def sample_rss(self):
        """Track the server's peak RSS until stop_sampling(); returns the baseline."""
        baseline = self.rss_kb()
        self.peak_kb = baseline
        self._sampling = True

        def loop():
            while self._sampling:
                self.peak_kb = max(self.peak_kb, self.rss_kb())
                time.sleep(0.005)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return baseline

    def stop_sampling(self):
        self._sampling = False
        self._thread.join()
        return self.peak_kb


def curl(server, path, *options):
    """(seconds, seconds to first byte, bytes received) for one GET, body thrown away."""
    out = subprocess.run(
        [
            "curl",
            "-s",
            "-f",
            "-o",
            "/dev/null",
            "-b",
            server.cookie,
            "-w",
            "%{time_total} %{time_starttransfer} %{size_download}",
            *options,
            server.url + path,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def shell(db_path, org):
    sql = (
        f"SELECT {COLUMNS} FROM sellers WHERE org_id = '{org}' AND deleted_at IS NULL "
        "ORDER BY created_at DESC, id DESC"
    )
    start = time.perf_counter()
    with open(os.devnull, "wb") as devnull:
        subprocess.run(["sqlite3", "-csv", db_path, sql], check=True, stdout=devnull)
    return time.perf_counter() - start, None, None


METHODS = {
    "plugin csv": lambda s, db, org: curl(s, f"/export/sellers/csv?org_id={org}"),
    "plugin json": lambda s, db, org: curl(s, f"/export/sellers/json?org_id={org}"),
    "plugin ndjson": lambda s, db, org: curl(s, f"/export/sellers/ndjson?org_id={org}"),
    "datasette .csv?_stream=on&_size=max": lambda s, db, org: curl(
        s,
        f"/{os.path.basename(db)[:-3]}/sellers.csv?_stream=on&_size=max&org_id={org}"
        "&deleted_at__isnull=1&_sort_desc=created_at",
    ),
    "sqlite3 -csv shell": lambda s, db, org: shell(db, org),
}


def spread(values, fmt="{:,.0f}"):
    low, middle, high = (fmt.format(f(values)) for f in (min, statistics.median, max))
    return f"{middle} ({low}-{high})"


def measure_exports(server, db_path, orgs, counts, runs, methods):
    results = {}
    for run in range(runs):
        for org in orgs:
            for name in methods:  # interleaved: every method once per run and size
                baseline = server.sample_rss()
                # A small organisation's export takes tens of milliseconds, where one hiccup
                # of the host would swing its figure; so it is repeated, like timeit, until
                # the measurement has lasted MIN_MEASURE_SECONDS.
                seconds, ttfbs = [], []
                while sum(seconds) < MIN_MEASURE_SECONDS:
                    elapsed, ttfb, _ = METHODS[name](server, db_path, org)
                    seconds.append(elapsed)
                    if ttfb is not None:
                        ttfbs.append(ttfb * 1000)
                peak = server.stop_sampling()
                entry = results.setdefault(
                    (name, org), {"rows_per_s": [], "ttfb_ms": [], "rss_mb": []}
                )
                entry["rows_per_s"].append(len(seconds) * counts[org] / sum(seconds))
                if ttfbs:
                    entry["ttfb_ms"].append(statistics.median(ttfbs))
                if not name.startswith("sqlite3"):
                    entry["rss_mb"].append((peak - baseline) / 1024)
        print(f"run {run + 1}/{runs} done", file=sys.stderr)
    return results


def print_export_table(results, orgs, counts, methods):
    print(
        "| organisation (live rows) | method | rows/s, median (min-max) | vs shell"
        " | time to first byte, ms | server RSS growth, MB |"
    )
    print("|---|---|---|---|---|---|")
    for org in orgs:
        shell_rate = statistics.median(results[("sqlite3 -csv shell", org)]["rows_per_s"])
        for name in methods:
            entry = results[(name, org)]
            rate = statistics.median(entry["rows_per_s"])
            ttfb = spread(entry["ttfb_ms"], "{:.1f}") if entry["ttfb_ms"] else "-"
            rss = spread(entry["rss_mb"], "{:.1f}") if entry["rss_mb"] else "-"
            print(
                f"| {org} ({counts[org]:,}) | {name} | {spread(entry['rows_per_s'])} | "
                f"{rate / shell_rate:.2f} | {ttfb} | {rss} |"
            )


def at_once(function, times):
    """Run `function` `times` times at once, in threads; the seconds until all are done."""
    threads = [threading.Thread(target=function) for _ in range(times)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def measure_concurrency(server, single_server, db_path, org, count, runs, exports=4):
    """`exports` CSV exports at once on `server`, against one export on `single_server`
    (parallelism 1): alone, then with /-/versions.json polled meanwhile (a request 20 ms
    after each answer: the faster it answers, the more of the two cores it takes). As a
    control, what this machine gives two processes at once: two sqlite3 shells against one."""
    singles, alone, together, latencies, shell_speedups = [], [], [], [], []
    export = lambda: curl(server, f"/export/sellers/csv?org_id={org}")  # noqa: E731
    for _ in range(runs):
        one_shell = shell(db_path, org)[0]
        shell_speedups.append(2 * one_shell / at_once(lambda: shell(db_path, org), 2))
        singles.append(count / curl(single_server, f"/export/sellers/csv?org_id={org}")[0])
        alone.append(exports * count / at_once(export, exports))
        stop = threading.Event()

        def poll(stop=stop):
            while not stop.is_set():
                start = time.perf_counter()
                urllib.request.urlopen(server.url + "/-/versions.json", timeout=10).read()
                latencies.append((time.perf_counter() - start) * 1000)
                time.sleep(0.02)

        poller = threading.Thread(target=poll)
        poller.start()
        together.append(exports * count / at_once(export, exports))
        stop.set()
        poller.join()
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95)]
    single = statistics.median(singles)
    print(f"\n| {exports} CSV exports of {org} ({count:,} rows) at once | figure |")
    print("|---|---|")
    print(f"| one export alone at parallelism 1, rows/s | {spread(singles)} |")
    print(f"| {exports} at once at the default parallelism, rows/s in all | {spread(alone)} |")
    print(
        f"| speed-up over one alone at parallelism 1 | {statistics.median(alone) / single:.2f}x |"
    )
    print(f"| the same with /-/versions.json polled, rows/s in all | {spread(together)} |")
    print(f"| speed-up over one alone, polled | {statistics.median(together) / single:.2f}x |")
    print(
        f"| /-/versions.json meanwhile, p95 / max ms ({len(latencies)} requests) | "
        f"{p95:.1f} / {latencies[-1]:.1f} |"
    )
    print(f"| control: two sqlite3 shells at once over one | {spread(shell_speedups, '{:.2f}x')} |")


def measure_parallelism(db_path, org, counts, runs, parallelisms):
    """The biggest organisation's exports at each parallel_batches, against the shell."""
    methods = ["plugin csv", "plugin json", "plugin ndjson", "sqlite3 -csv shell"]
    print(
        f"\n| parallel_batches | {org} ({counts[org]:,} rows): csv rows/s | vs shell | json"
        " | vs shell | ndjson | vs shell | first byte, ms | server RSS growth, MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for parallel in parallelisms:
        server = Server(db_path, parallel=parallel)
        try:
            results = measure_exports(server, db_path, [org], counts, runs, methods)
        finally:
            server.stop()
        shell_rate = statistics.median(results[("sqlite3 -csv shell", org)]["rows_per_s"])
        cells = []
        for name in methods[:3]:
            rates = results[(name, org)]["rows_per_s"]
            cells += [spread(rates), f"{statistics.median(rates) / shell_rate:.2f}"]
        csv = results[("plugin csv", org)]
        print(
            f"| {parallel} | {' | '.join(cells)} | {spread(csv['ttfb_ms'], '{:.1f}')}"
            f" | {spread(csv['rss_mb'], '{:.1f}')} |"
        )


def measure_encodings(server, db_path, org, count, runs, link_mbit):
    """The biggest organisation's CSV in each content coding: rows/s against the shell's
    uncompressed CSV, bytes on the wire, first byte, and delivery to a reader at `link_mbit`
    Mbit/s (curl --limit-rate reads no faster, as a slow network would). curl keeps the body
    as it arrives (no --compressed), so the bytes are the wire's."""
    figures = {}
    for _ in range(runs):
        shell_rate = count / shell(db_path, org)[0]
        for encoding in ("identity", "gzip", "zstd"):
            accept = ["-H", f"Accept-Encoding: {encoding}"]
            path = f"/export/sellers/csv?org_id={org}"
            seconds, ttfb, size = curl(server, path, *accept)
            slow = curl(server, path, *accept, "--limit-rate", str(link_mbit * 125_000))[0]
            entry = figures.setdefault(encoding, {"rate": [], "ratio": [], "ttfb": [], "slow": []})
            entry["rate"].append(count / seconds)
            entry["ratio"].append(count / seconds / shell_rate)
            entry["ttfb"].append(ttfb * 1000)
            entry["slow"].append(slow)
            entry["bytes"] = size
    identity = figures["identity"]
    print(
        f"\n| {org} ({count:,} rows) as CSV | rows/s | vs shell | bytes on the wire"
        f" | first byte, ms | at {link_mbit} Mbit/s, s | sooner than identity |"
    )
    print("|---|---|---|---|---|---|---|")
    for encoding, entry in figures.items():
        sooner = statistics.median(identity["slow"]) / statistics.median(entry["slow"])
        share = entry["bytes"] / identity["bytes"]
        print(
            f"| {encoding} | {spread(entry['rate'])} | {spread(entry['ratio'], '{:.2f}')}"
            f" | {entry['bytes']:,} ({share:.0%}) | {spread(entry['ttfb'], '{:.1f}')}"
            f" | {spread(entry['slow'], '{:.1f}')} | {sooner:.2f}x |"
        )


def demo_arguments(description):
    """The command line every benchmark on the demo database shares."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--orgs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    return parser


def main():
    parser = demo_arguments(__doc__)
    parser.add_argument(
        "--skip-datasette",
        action="store_true",
        help="leave out Datasette's own stream (minutes at the biggest size)",
    )
    parser.add_argument("--shapes", default="demo,plain", help="demo, plain or both")
    parser.add_argument("--plain-orgs", type=int, default=5, help="organisations of plain data")
    parser.add_argument(
        "--skip-concurrency", action="store_true", help="leave out four exports at once"
    )
    parser.add_argument(
        "--encodings",
        action="store_true",
        help="the biggest organisation's CSV in zstd and gzip, and over a slow link",
    )
    parser.add_argument("--link-mbit", type=int, default=100, help="the slow link, for --encodings")
    parser.add_argument(
        "--parallel",
        default="1,2,3,4",
        help="comma-separated parallel_batches to compare on the biggest org ('' for none)",
    )
    parser.add_argument(
        "--batch-sizes",
        default="",
        help="comma-separated batch sizes to compare on the biggest org, e.g. 100,1000,5000",
    )
    args = parser.parse_args()

    ensure_tool("sqlite3", "sqlite3")
    ensure_tool("curl", "curl")
    with open("/proc/cpuinfo") as fp:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in fp if line.startswith("model name")), "?"
        )
    shell_version = subprocess.run(
        ["sqlite3", "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[0]
    print(f"{os.cpu_count()} cores, {cpu}; SQLite {shell_version}; {args.runs} runs")
    for shape in args.shapes.split(","):
        orgs = args.orgs if shape == "demo" else args.plain_orgs
        db_path = build_database(args.rows, orgs, args.seed, shape)
        print(f"\n## {shape} data: {args.rows:,} sellers in {orgs} organisations\n")
        measure_shape(args, db_path)


def measure_shape(args, db_path):
    counts = live_counts(db_path)
    orgs = pick_sizes(counts)
    biggest = orgs[-1]
    methods = [m for m in METHODS if not (args.skip_datasette and m.startswith("datasette"))]
    server = Server(db_path)
    single_server = Server(db_path, parallel=1)
    try:
        results = measure_exports(server, db_path, orgs, counts, args.runs, methods)
        print_export_table(results, orgs, counts, methods)
        if not args.skip_concurrency:
            measure_concurrency(server, single_server, db_path, biggest, counts[biggest], args.runs)
        if args.encodings:
            link = args.link_mbit
            measure_encodings(server, db_path, biggest, counts[biggest], args.runs, link)
    finally:
        server.stop()
        single_server.stop()

    if args.parallel:
        parallelisms = [int(p) for p in args.parallel.split(",")]
        measure_parallelism(db_path, biggest, counts, args.runs, parallelisms)

    if args.batch_sizes:
        print(
            "\n| batch_size | plugin csv rows/s, biggest org | time to first byte, ms"
            " | server RSS growth, MB |"
        )
        print("|---|---|---|---|")
        for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
            server = Server(db_path, batch_size)
            try:
                entry = measure_exports(
                    server, db_path, orgs[-1:], counts, args.runs, ["plugin csv"]
                )
            finally:
                server.stop()
            entry = entry[("plugin csv", orgs[-1])]
            print(
                f"| {batch_size:,} | {spread(entry['rows_per_s'])} | "
                f"{spread(entry['ttfb_ms'], '{:.1f}')} | {spread(entry['rss_mb'], '{:.1f}')} |"
            )


if __name__ == "__main__":
    main()
