"""The encoders' cost per row measured apart from Python: each format's generated batch SQL for
the biggest organisation, run by the `sqlite3` shell itself, beside the shell's own `.mode csv`
and `.mode json` writing the same rows in the same order.

    python benchmarks/encoder.py                  # the demo and plain data of run.py, 3 runs
    python benchmarks/encoder.py --shapes plain --runs 5

The batch query is the default order's, as an export's first batch is built, with a limit
that holds the whole organisation, so one statement encodes every row; its parameters are
written into it as SQL literals. `seller_export_real_text` (Python's float repr, called only
for the rare floats `%!.15g` cannot write exactly) is not in the shell: `printf('%!.17g', x)`
stands in for it. Figures are the shell process's user CPU (from the kernel's accounting of
the child), medians of --runs runs; the ratio is the plugin's SQL over the shell's writer.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys

from run import COLUMNS, build_database, ensure_tool, live_counts

from datasette_seller_export.engine.encoders import FORMATS
from datasette_seller_export.engine.functions import REAL_TEXT_FUNCTION
from datasette_seller_export.engine.queries import batch_query
from datasette_seller_export.engine.selection import Selection

SHELL_MODES = {"csv": "csv", "json": "json", "ndjson": "json"}


def literal(value):
    """A parameter's value as an SQL literal, for a statement the shell runs as it is."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"X'{value.hex()}'"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def encoder_sql(fmt, org, rows):
    """The format's batch SQL for all `rows` of `org`, parameters written in."""
    row_sql = FORMATS[fmt].row_sql()  # every column, formulas escaped: the defaults
    sql, params = batch_query(
        Selection("sellers", org), row_sql, rows, separator=FORMATS[fmt].separator
    )
    # Longest names first, so that :limit is not replaced inside :limit_x.
    for name in sorted(params, key=len, reverse=True):
        sql = sql.replace(":" + name, literal(params[name]))
    return sql.replace(f"{REAL_TEXT_FUNCTION}(", "printf('%!.17g', ")


def shell_sql(org):
    return (
        f"SELECT {COLUMNS} FROM sellers WHERE org_id = {literal(org)} AND deleted_at IS NULL"
        " ORDER BY created_at DESC, id DESC"
    )


def run_shell(db_path, script):
    """The user CPU seconds and the output bytes of one `sqlite3` run of `script`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    out = subprocess.run(
        ["sqlite3", db_path], input=script.encode(), capture_output=True, check=True
    )
    if out.stderr:
        sys.exit(out.stderr.decode())
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - before, len(out.stdout)


def measure(db_path, org, rows, runs):
    results = []
    for fmt in FORMATS:
        mode = SHELL_MODES[fmt]
        scripts = {
            "plugin": f".mode list\n{encoder_sql(fmt, org, rows)};\n",
            "shell": f".mode {mode}\n{shell_sql(org)};\n",
        }
        cpu = {name: [] for name in scripts}
        size = {}
        for _ in range(runs):  # interleaved, so that a slow moment of the host hits both
            for name, script in scripts.items():
                seconds, size[name] = run_shell(db_path, script)
                cpu[name].append(seconds)
        plugin, shell = (statistics.median(cpu[name]) for name in ("plugin", "shell"))
        results.append((fmt, mode, plugin, shell, size))
    return results


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", default="demo,plain")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ensure_tool("sqlite3", "sqlite3")
    shapes = {
        "demo": lambda: build_database(1_000_000, 20, 1),
        "plain": lambda: build_database(1_000_000, 5, None, shape="plain"),
    }
    print(
        "| data | organisation (live rows) | format | plugin's SQL, CPU s | shell's"
        " `.mode`, CPU s | ratio | bytes, plugin / shell |"
    )
    print("|---|---|---|---|---|---|---|")
    for shape in args.shapes.split(","):
        db_path = shapes[shape]()
        subprocess.run(
            [sys.executable, "-m", "datasette", "seller-export", "init", db_path],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        counts = live_counts(db_path)
        org = max(counts, key=counts.get)
        for fmt, mode, plugin, shell, size in measure(db_path, org, counts[org], args.runs):
            print(
                f"| {shape} | {org} ({counts[org]:,}) | {fmt} | {plugin:.2f} |"
                f" {mode}: {shell:.2f} | {plugin / shell:.2f} |"
                f" {size['plugin']:,} / {size['shell']:,} |",
                flush=True,
            )


if __name__ == "__main__":
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    main()
