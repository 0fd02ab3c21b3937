"""The encoders' cost per row measured apart from Python: each format's generated batch SQL for
the biggest organisation, run by the `sqlite3` shell itself, beside the shell's own `.mode csv`
and `.mode json` writing the same rows in the same order.

    python benchmarks/encoder.py                  # the demo and plain data of run.py, 3 runs
    python benchmarks/encoder.py --shapes plain --runs 5
    python benchmarks/encoder.py --instructions 20000    # counted by valgrind, repeatable

The batch query is the default order's, as an export's first batch is built, with a limit
that holds the whole organisation, so one statement encodes every row; its parameters are
written into it as SQL literals. `seller_export_real_text` (Python's float repr, called only
for the rare floats `%!.15g` cannot write exactly) is not in the shell: `printf('%!.17g', x)`
stands in for it. Each format runs twice: with the general expressions, which any table
takes, and with those of a mirror the plugin made, STRICT and free of NUL characters (which
`init` makes the benchmark's mirror: the general ones run on it as well, so both read the
same file). Figures are the shell
process's user CPU (from the kernel's accounting of the child), medians of --runs runs, or
with --instructions the instructions valgrind counts; the ratio is the plugin's SQL over the
shell's writer.
"""

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys

from run import COLUMNS, build_database, ensure_tool, live_counts

from datasette_seller_export.engine.formats import FORMATS
from datasette_seller_export.engine.functions import REAL_TEXT_FUNCTION
from datasette_seller_export.engine.queries import batch_query
from datasette_seller_export.engine.schema import ANY_VALUES, MIRROR_VALUES
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


def encoder_sql(fmt, org, rows, rules):
    """The format's batch SQL for all `rows` of `org`, parameters written in, leaving
    unchecked what `rules` say the table guarantees."""
    row_sql = FORMATS[fmt].row_sql(rules=rules)  # every column, formulas escaped: the defaults
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


def shell_scripts(fmt, org, rows, limit=""):
    """The `sqlite3` scripts that write the first `rows` of `org` in `fmt`: the plugin's SQL
    for any table ("general") and for a mirror ("strict"), and the shell's own writer."""
    return {
        "general": f".mode list\n{encoder_sql(fmt, org, rows, ANY_VALUES)};\n",
        "strict": f".mode list\n{encoder_sql(fmt, org, rows, MIRROR_VALUES)};\n",
        "shell": f".mode {SHELL_MODES[fmt]}\n{shell_sql(org)}{limit};\n",
    }


def count_instructions(db_path, script):
    """The instructions (callgrind's Ir) one `sqlite3` run of `script` executes: the same
    count on every run, however busy the machine, where CPU seconds vary by a third here."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", "sqlite3", db_path],
        input=script.encode(),
        capture_output=True,
        check=True,
    )
    return int(re.search(rb"Collected : (\d+)", out.stderr).group(1))


def instructions_per_row(db_path, org, rows):
    """Each format's instructions per row over the first `rows` of `org`, the shell's writer
    and the plugin's SQL (general and STRICT), less those of starting the shell."""
    start = count_instructions(db_path, "SELECT 1;\n")
    results = []
    for fmt in SHELL_MODES:
        mode = SHELL_MODES[fmt]
        scripts = shell_scripts(fmt, org, rows, f" LIMIT {rows}")
        per_row = {
            name: (count_instructions(db_path, script) - start) / rows
            for name, script in scripts.items()
        }
        results.append((fmt, mode, per_row))
    return results


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
    for fmt in SHELL_MODES:
        mode = SHELL_MODES[fmt]
        scripts = shell_scripts(fmt, org, rows)
        cpu = {name: [] for name in scripts}
        size = {}
        for _ in range(runs):  # interleaved, so that a slow moment of the host hits both
            for name, script in scripts.items():
                seconds, size[name] = run_shell(db_path, script)
                cpu[name].append(seconds)
        results.append((fmt, mode, {name: statistics.median(cpu[name]) for name in cpu}, size))
    return results


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shapes", default="demo,plain")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--instructions",
        type=int,
        default=0,
        metavar="ROWS",
        help="count instructions (valgrind) over the first ROWS rows instead of CPU seconds",
    )
    args = parser.parse_args()
    ensure_tool("sqlite3", "sqlite3")
    if args.instructions:
        ensure_tool("valgrind", "valgrind")
    shapes = {
        "demo": lambda: build_database(1_000_000, 20, 1),
        "plain": lambda: build_database(1_000_000, 5, None, shape="plain"),
    }
    unit = "instructions a row" if args.instructions else "CPU s"
    print(
        f"| data | organisation (live rows) | format | shell's `.mode`, {unit} | plugin's SQL"
        " (ratio): any table | STRICT table | bytes, plugin / shell |"
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
        if args.instructions:
            for fmt, mode, per_row in instructions_per_row(db_path, org, args.instructions):
                shell = per_row["shell"]
                print(
                    f"| {shape} | {org} (first {args.instructions:,}) | {fmt} |"
                    f" {mode}: {shell:,.0f} |"
                    f" {per_row['general']:,.0f} ({per_row['general'] / shell:.2f}) |"
                    f" {per_row['strict']:,.0f} ({per_row['strict'] / shell:.2f}) | |",
                    flush=True,
                )
            continue
        for fmt, mode, cpu, size in measure(db_path, org, counts[org], args.runs):
            shell = cpu["shell"]
            print(
                f"| {shape} | {org} ({counts[org]:,}) | {fmt} | {mode}: {shell:.2f} |"
                f" {cpu['general']:.2f} ({cpu['general'] / shell:.2f}) |"
                f" {cpu['strict']:.2f} ({cpu['strict'] / shell:.2f}) |"
                f" {size['general']:,} / {size['shell']:,} |",
                flush=True,
            )


if __name__ == "__main__":
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    main()
