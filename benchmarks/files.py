"""XLSX and Parquet exports against CSV, over HTTP, and the XLSX against Python's workbook
writers on the same rows.

    python benchmarks/files.py                   # the 1,000,000-row demo, about 5 minutes
    python benchmarks/files.py --rows 200000 --runs 2

It uses benchmarks/run.py's demo database (brought up to date with `init`) and serves it with
`datasette serve`. Whole exports of an organisation of about a tenth of the biggest's rows and
of the biggest, as CSV, XLSX and Parquet, interleaved over --runs runs, timed with curl: rows/s,
time to first byte and the server's RSS growth. Then the biggest organisation's rows written
to an XLSX file by xlsxwriter (constant_memory mode) and by openpyxl (write-only mode, what
datasette-xlsx is built on), each in a process of its own, with its time and peak RSS
(xlsxwriter is not among the test dependencies: `pip install xlsxwriter` first).
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time

from grid import the_biggest_organisation
from run import COLUMNS, Server, curl, spread

FORMATS = ("csv", "xlsx", "parquet")

# The same rows as the export, read with Python's sqlite3 and written by a workbook library.
WRITERS = {
    "xlsxwriter, constant_memory": """
import sqlite3, sys, xlsxwriter
rows = sqlite3.connect(sys.argv[1]).execute(sys.argv[2])
book = xlsxwriter.Workbook(sys.argv[3], {"constant_memory": True})
sheet = book.add_worksheet("sellers")
for number, row in enumerate(rows):
    sheet.write_row(number, 0, row)
book.close()
""",
    "openpyxl, write_only": """
import sqlite3, sys, openpyxl
rows = sqlite3.connect(sys.argv[1]).execute(sys.argv[2])
book = openpyxl.Workbook(write_only=True)
sheet = book.create_sheet("sellers")
for row in rows:
    sheet.append(row)
book.save(sys.argv[3])
""",
}


def measure_exports(server, orgs, counts, runs):
    results = {}
    for _ in range(runs):
        for org in orgs:
            for fmt in FORMATS:
                baseline = server.sample_rss()
                seconds, ttfb, size = curl(server, f"/export/sellers/{fmt}?org_id={org}")
                peak = server.stop_sampling()
                entry = results.setdefault((org, fmt), {"rate": [], "ttfb": [], "rss": []})
                entry["rate"].append(counts[org] / seconds)
                entry["ttfb"].append(ttfb * 1000)
                entry["rss"].append((peak - baseline) / 1024)
                entry["size"] = size
    return results


def print_exports(results, orgs, counts):
    print(
        "| organisation (live rows) | format | rows/s, median (min-max) | vs CSV"
        " | first byte, ms | server RSS growth, MB | size, MB |"
    )
    print("|---|---|---|---|---|---|---|")
    for org in orgs:
        csv_rate = statistics.median(results[(org, "csv")]["rate"])
        for fmt in FORMATS:
            entry = results[(org, fmt)]
            ratio = statistics.median(entry["rate"]) / csv_rate
            print(
                f"| {org} ({counts[org]:,}) | {fmt} | {spread(entry['rate'])} | {ratio:.2f}"
                f" | {spread(entry['ttfb'], '{:.1f}')} | {spread(entry['rss'], '{:.1f}')}"
                f" | {entry['size'] / 1e6:,.1f} |"
            )


def measure_writers(server, db_path, org, count, runs):
    sql = (
        f"SELECT {COLUMNS} FROM sellers WHERE org_id = '{org}' AND deleted_at IS NULL"
        " ORDER BY created_at DESC, id DESC"
    )
    print(
        f"\n| {org}'s {count:,} rows to an XLSX file | seconds, median (min-max) | rows/s"
        " | peak RSS, MB | size, MB |"
    )
    print("|---|---|---|---|---|")
    for name, script in WRITERS.items():
        seconds, peaks = [], []
        with tempfile.TemporaryDirectory() as directory:
            out = os.path.join(directory, "sellers.xlsx")
            for _ in range(runs):
                start = time.perf_counter()
                peak = _peak_rss_mb([sys.executable, "-c", script, db_path, sql, out])
                seconds.append(time.perf_counter() - start)
                peaks.append(peak)
            size = os.path.getsize(out)
        rate = count / statistics.median(seconds)
        print(
            f"| {name} | {spread(seconds, '{:.1f}')} | {rate:,.0f} | {max(peaks):.0f}"
            f" | {size / 1e6:.1f} |"
        )
    plugin = [curl(server, f"/export/sellers/xlsx?org_id={org}") for _ in range(runs)]
    seconds = [elapsed for elapsed, _, _ in plugin]
    print(
        f"| this plugin over HTTP (curl) | {spread(seconds, '{:.1f}')}"
        f" | {count / statistics.median(seconds):,.0f} | see above | {plugin[0][2] / 1e6:.1f} |"
    )


def _peak_rss_mb(command):
    """Run `command`; its peak RSS in MB, as GNU time reports it."""
    out = subprocess.run(
        ["/usr/bin/time", "-f", "%M", *command], check=True, capture_output=True, text=True
    )
    return int(out.stderr.strip().splitlines()[-1]) / 1024


def main():
    args, db_path, counts, org = the_biggest_organisation(__doc__)
    # An organisation with about a tenth of the biggest's rows, for "flat at 10x".
    tenth = min(counts, key=lambda o: abs(counts[o] - counts[org] / 10))
    server = Server(db_path)
    try:
        print_exports(
            measure_exports(server, [tenth, org], counts, args.runs), [tenth, org], counts
        )
        measure_writers(server, db_path, org, counts[org], args.runs)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
