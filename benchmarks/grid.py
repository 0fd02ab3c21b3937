"""The sellers grid on the biggest organisation: first pages of searches and of every sort, a
page deep into the organisation, and whole sorted or searched exports against the default.

    python benchmarks/grid.py                      # the 1,000,000-row demo, about 5 minutes
    python benchmarks/grid.py --rows 200000 --runs 2

It uses benchmarks/run.py's demo database (made with `datasette seller-export demo`, brought
up to date with `init`, which adds the sort indexes and the search index), serves it with
`datasette serve`, and times requests with curl. A page's figure is the median of --repeats
requests; an export's is rows/s over --runs runs, interleaved with the default export.
"""

import json
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from run import Server, build_database, curl, demo_arguments, ensure_tool, live_counts, spread

from datasette_seller_export.engine.schema import SORTABLE_COLUMNS

# A common word of the demo's names (about 7 % of the rows hold it), one in a few hundred
# rows, a two-character term (scanned, not indexed), and one that matches nothing.
SEARCHES = ["acme", "zoë's müller", "ac", "no such seller"]
PAGE_SIZE = 100
DEEP_ROWS = 400_000


def page_ms(server, path, repeats):
    return statistics.median(curl(server, path)[0] * 1000 for _ in range(repeats))


def deep_token(server, org, rows):
    """The `next` token after `rows` rows, by following the API with the largest pages."""
    path, seen = f"/-/sellers.json?org_id={org}&_size=max", 0
    while seen < rows:
        request = urllib.request.Request(server.url + path, headers={"Cookie": server.cookie})
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.load(response)
        seen += len(body["rows"])
        parts = urllib.parse.urlsplit(body["next_url"])
        path = parts.path + "?" + parts.query
    return dict(urllib.parse.parse_qsl(parts.query))["_next"], seen


def rows_in(server, org, query):
    """How many rows an export holds: NDJSON's lines (newlines inside values are escaped)."""
    request = urllib.request.Request(
        f"{server.url}/export/sellers/ndjson?org_id={org}{query}", headers={"Cookie": server.cookie}
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return response.read().count(b"\n")


def print_export_rates(server, org, exports, runs, against):
    """Whole CSV exports of `org`, one per `{name: query}`, interleaved over `runs` runs, as a
    table of rows/s, each against the first export's (called `against`)."""
    rows = {name: rows_in(server, org, query) for name, query in exports.items()}
    rates = {name: [] for name in exports}
    for _ in range(runs):
        for name, query in exports.items():
            seconds, _, _ = curl(server, f"/export/sellers/csv?org_id={org}{query}")
            rates[name].append(rows[name] / seconds)
    first = statistics.median(next(iter(rates.values())))
    print(
        "\n| whole CSV export of the biggest organisation | rows | rows/s, median (min-max)"
        f" | vs {against} |"
    )
    print("|---|---|---|---|")
    for name, values in rates.items():
        ratio = statistics.median(values) / first
        print(f"| `{name}` | {rows[name]:,} | {spread(values)} | {ratio:.2f} |")


def the_biggest_organisation(description):
    """The command line, the demo database brought up to date with `init`, its organisations'
    live counts and the biggest of them, as every benchmark of one organisation starts."""
    parser = demo_arguments(description)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()

    ensure_tool("curl", "curl")
    db_path = build_database(args.rows, args.orgs, args.seed)
    subprocess.run(
        [sys.executable, "-m", "datasette", "seller-export", "init", db_path], check=True
    )
    counts = live_counts(db_path)
    org = max(counts, key=counts.get)
    print(f"{args.rows:,} demo sellers; the biggest organisation, {org}: {counts[org]:,} live\n")
    return args, db_path, counts, org


def main():
    args, db_path, counts, org = the_biggest_organisation(__doc__)
    server = Server(db_path)
    try:
        print("| first page of 100 rows | median ms |")
        print("|---|---|")
        for term in SEARCHES:
            query = urllib.parse.urlencode({"org_id": org, "q": term, "_size": PAGE_SIZE})
            print(
                f"| `q={term}` | {page_ms(server, f'/-/sellers.json?{query}', args.repeats):.1f} |"
            )
        for column in SORTABLE_COLUMNS:
            for parameter in ("_sort", "_sort_desc"):
                query = f"org_id={org}&{parameter}={column}&_size={PAGE_SIZE}"
                ms = page_ms(server, f"/-/sellers.json?{query}", args.repeats)
                print(f"| `{parameter}={column}` | {ms:.1f} |")
        if counts[org] > DEEP_ROWS:
            started = time.perf_counter()
            token, seen = deep_token(server, org, DEEP_ROWS)
            walked = time.perf_counter() - started
            path = f"/-/sellers.json?org_id={org}&_size={PAGE_SIZE}&_next={token}"
            ms = page_ms(server, path, args.repeats)
            print(f"| the page after {seen:,} rows (`_next`) | {ms:.1f} |")
            print(f"\n(reaching it: {seen // 1000} pages of 1,000 rows in {walked:.1f} s)")

        exports = {
            "default (created_at DESC)": "",
            "_sort=display_name": "&_sort=display_name",
            "_sort_desc=feedback_percent": "&_sort_desc=feedback_percent",
            "_sort=platform": "&_sort=platform",
            "q=acme": "&q=acme",
            "q=acme&_sort=times_seen": "&q=acme&_sort=times_seen",
        }
        print_export_rates(server, org, exports, args.runs, "default")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
