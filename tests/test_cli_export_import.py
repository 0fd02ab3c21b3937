"""`datasette seller-export export` and `import`: the same bytes as HTTP, and dumps that
round-trip, all or nothing."""

import asyncio
import csv
import gzip
import io
import json
import os
import random
import sqlite3
import subprocess
import sys

import pytest
import sqlite_utils
import zstandard
from click.testing import CliRunner
from datasette.cli import cli
from support.clients import run_cli
from support.oracle import expected_export
from support.sellers import ROOT, build_sellers_db, seller

from datasette_seller_export.engine.schema import COLUMN_TYPES, ensure_table
from datasette_seller_export.mirror.dumps import parse_csv_record

ORGS = ["org-a", "org-b", "org-one", "org-empty", 'org/with "odd" id\r\n']


# --- export ---------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
async def test_export_writes_the_same_bytes_as_http(ds, sellers_db, tmp_path, fmt):
    for org_id in ORGS:
        for flagged in (None, "true", "0"):
            out = tmp_path / f"out.{fmt}"
            args = ["export", sellers_db, "--org", org_id, "--format", fmt, "-o", out]
            query = {"org_id": org_id}
            if flagged:
                args += ["--flagged", flagged]
                query["flagged"] = flagged
            result = await asyncio.to_thread(run_cli, *args)  # the CLI runs its own event loop
            assert result.exit_code == 0, result.output
            http = await ds.client.get(f"/export/sellers/{fmt}", params=query, actor=ROOT)
            assert out.read_bytes() == http.content, (org_id, flagged)


def test_export_to_standard_output_with_bom(sellers_db):
    result = CliRunner().invoke(
        cli, ["seller-export", "export", sellers_db, "--org", "org-b", "--bom"]
    )
    assert result.stdout_bytes == expected_export(sellers_db, "org-b", "csv", bom=True).encode()


@pytest.mark.parametrize(
    "name, args, coding",
    [
        ("out.csv.gz", [], "gzip"),
        ("out.csv.zst", [], "zstd"),
        ("out.csv", ["--compress", "zstd"], "zstd"),
        ("out.gz", ["--compress", "gzip"], "gzip"),
        (None, ["--compress", "gzip"], "gzip"),
    ],
)
def test_export_compresses_as_the_file_name_or_compress_says(
    sellers_db, tmp_path, name, args, coding
):
    command = ["seller-export", "export", sellers_db, "--org", "org-a", *args]
    if name:
        command += ["-o", str(tmp_path / name)]
    result = CliRunner().invoke(cli, command, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = (tmp_path / name).read_bytes() if name else result.stdout_bytes
    if coding == "gzip":
        decoded = gzip.decompress(data)
    else:
        decoded = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    assert decoded == expected_export(sellers_db, "org-a", "csv").encode()


@pytest.mark.parametrize(
    "args,message",
    [
        (["--compress", "zstd"], "out.csv.gz ends in .gz, which is gzip, not zstd: name the file"),
        (["--compress", "brotli"], "'brotli' is not one of"),
        (["--flagged", "maybe"], "flagged='maybe'"),
        (["--format", "json", "--bom"], "--bom is for CSV only"),
        (["--table", "nope"], "no table 'nope'"),
        (["--format", "xml"], "'xml' is not one of"),
    ],
)
def test_export_refuses_bad_arguments_and_writes_nothing(sellers_db, tmp_path, args, message):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / ("out.csv.gz" if "--compress" in args else "out.csv")
    result = CliRunner().invoke(
        cli, ["seller-export", "export", sellers_db, "--org", "org-a", "-o", str(out), *args]
    )
    assert result.exit_code != 0 and message in result.output
    assert os.listdir(tmp_path / "out") == []


def corrupt_last_rows(path, rows=2_000):
    """A mirror of `rows` sellers of org-a, oldest first by rowid, whose table page that holds
    the newest rows is overwritten: an export oldest first reads many batches, then fails."""
    db = sqlite_utils.Database(path)
    ensure_table(db)
    rng = random.Random(0)
    db["sellers"].insert_all(
        dict(seller(rng, "org-a", n), created_at=f"2020-01-01T00:00:00.{n:06d}Z")
        for n in range(rows)
    )
    (last_leaf,) = db.execute(
        "SELECT max(pageno) FROM dbstat WHERE name = 'sellers' AND pagetype = 'leaf'"
    ).fetchone()
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    with open(path, "r+b") as file:
        file.seek((last_leaf - 1) * page_size)
        file.write(b"\xff" * page_size)


def test_a_failed_export_leaves_no_partial_file(tmp_path):
    mirror = str(tmp_path / "corrupt.db")
    corrupt_last_rows(mirror)
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "out.csv"
    out.write_bytes(b"an older export, kept")
    args = ["export", mirror, "--org", "org-a", "--sort", "created_at", "--batch-size", "10"]
    result = CliRunner().invoke(cli, ["seller-export", *args, "-o", str(out)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "the export failed: database disk image is malformed" in result.output
    assert f"{out} is unchanged" in result.output
    assert out.read_bytes() == b"an older export, kept"
    assert os.listdir(tmp_path / "out") == ["out.csv"]
    # To standard output the rows before the damage are written, then the export fails.
    streamed = CliRunner().invoke(cli, ["seller-export", *args])
    assert streamed.exit_code == 1 and "what was written is incomplete" in streamed.stderr
    assert streamed.stdout.count("\n") > 100


# --- dumps as production writes them --------------------------------------------------------


def production_rows(db_path):
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(f"SELECT {', '.join(COLUMN_TYPES)} FROM sellers")]
    finally:
        conn.close()


def pg_csv_field(column, value):
    """PostgreSQL COPY ... CSV: NULL unquoted and empty, '' quoted, booleans t/f."""
    if value is None:
        return ""
    if column == "flagged":
        return "t" if value else "f"
    text = repr(value) if isinstance(value, float) else str(value)
    if text == "" or any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def write_dump(db_path, path, fmt):
    rows = production_rows(db_path)
    for row in rows:
        if fmt != "csv" and row["flagged"] is not None:
            row["flagged"] = bool(row["flagged"])
    with open(path, "w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            out.write(",".join(COLUMN_TYPES) + "\r\n")
            for row in rows:
                out.write(",".join(pg_csv_field(c, row[c]) for c in COLUMN_TYPES) + "\r\n")
        elif fmt == "json":
            json.dump(rows, out, ensure_ascii=False)
        else:
            for row in rows:
                out.write(json.dumps(row) + "\n")
    return rows


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_a_production_dump_round_trips_through_import(sellers_db, tmp_path, fmt):
    dump = tmp_path / f"dump.{fmt}"
    rows = write_dump(sellers_db, dump, fmt)
    mirror = tmp_path / "mirror.db"
    result = run_cli("import", mirror, dump)
    assert result.exit_code == 0, result.output
    assert f"{len(rows):,} inserted, 0 updated, 0 unchanged" in result.output
    for org_id in ORGS:
        for export_format in ("csv", "json", "ndjson"):
            assert expected_export(str(mirror), org_id, export_format) == expected_export(
                sellers_db, org_id, export_format
            ), (org_id, export_format)
            assert (
                run_cli("export", mirror, "--org", org_id, "--format", export_format).stdout_bytes
                == run_cli(
                    "export", sellers_db, "--org", org_id, "--format", export_format
                ).stdout_bytes
            )
    assert sorted(production_rows(str(mirror)), key=lambda r: r["id"]) == sorted(
        production_rows(sellers_db), key=lambda r: r["id"]
    )
    again = run_cli("import", mirror, dump)
    assert f"0 inserted, 0 updated, {len(rows):,} unchanged" in again.output


def test_import_updates_changed_rows(sellers_db, tmp_path):
    dump = tmp_path / "dump.ndjson"
    rows = write_dump(sellers_db, dump, "ndjson")
    mirror = tmp_path / "mirror.db"
    run_cli("import", mirror, dump)
    rows[0]["display_name"] = "Renamed"
    rows[1]["deleted_at"] = "2026-01-01T00:00:00Z"
    dump.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = run_cli("import", mirror, dump)
    assert f"0 inserted, 2 updated, {len(rows) - 2:,} unchanged" in result.output


BAD_RECORDS = [
    ("csv", lambda row: row.replace(",", ",,", 1), "has 16 fields where the header has 15"),
    ("csv", lambda row: ",".join([""] + row.split(",")[1:]), "id is missing"),
    (
        "csv",
        lambda row: row.replace(",t,", ",maybe,").replace(",f,", ",maybe,"),
        "flagged must be true or false",
    ),
    ("json", lambda obj: {**obj, "org_id": None}, "org_id is missing"),
    ("json", lambda obj: {**obj, "times_seen": "many"}, "times_seen must be a whole number"),
    (
        "json",
        lambda obj: {k: v for k, v in obj.items() if k != "updated_at"},
        "missing columns updated_at",
    ),
    ("json", lambda obj: {**obj, "secret": 1}, "unknown columns 'secret'"),
    (
        "ndjson",
        lambda obj: {**obj, "feedback_percent": "high"},
        "feedback_percent must be a number",
    ),
    ("ndjson", lambda obj: {**obj, "id": ""}, "id is empty"),
    ("ndjson", lambda obj: [obj], "is not a JSON object"),
]


@pytest.mark.parametrize("fmt,spoil,message", BAD_RECORDS)
def test_a_bad_record_stops_the_import_and_changes_nothing(
    sellers_db, tmp_path, fmt, spoil, message
):
    mirror = build_sellers_db(tmp_path / "mirror.db", {"org-x": 20}, seed=99)
    before = open(mirror, "rb").read()
    dump = tmp_path / f"dump.{fmt}"
    rows = write_dump(sellers_db, dump, fmt)
    middle = len(rows) // 2
    if fmt == "csv":
        records = [",".join(pg_csv_field(c, row[c]) for c in COLUMN_TYPES) for row in rows]
        # A record without quoted fields, so that spoiling its text spoils only that record.
        middle = next(n for n in range(middle, len(records)) if '"' not in records[n])
        records[middle] = spoil(records[middle])
        dump.write_text("\r\n".join([",".join(COLUMN_TYPES)] + records) + "\r\n", encoding="utf-8")
    else:
        rows[middle] = spoil(rows[middle])
        text = json.dumps(rows) if fmt == "json" else "".join(json.dumps(r) + "\n" for r in rows)
        dump.write_text(text)
    record_number = middle + 1
    result = run_cli("import", mirror, dump)
    assert result.exit_code == 1
    assert f"record {record_number}: {message}" in result.output
    assert "nothing was imported" in result.output
    assert open(mirror, "rb").read() == before


def test_a_failed_import_into_a_new_file_creates_no_table(tmp_path):
    dump = tmp_path / "dump.ndjson"
    dump.write_text('{"id": "x"}\n')
    mirror = tmp_path / "new.db"
    result = run_cli("import", mirror, dump)
    assert result.exit_code == 1 and "record 1: missing columns" in result.output
    assert not sqlite3.connect(mirror).execute("SELECT name FROM sqlite_master").fetchall()


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("dump.txt", "", "pass --format csv, json or ndjson"),
        ("dump.csv", "", "the CSV file is empty"),
        ("dump.csv", "id,id\r\n", "name each column once"),
        ("dump.json", "{", "not valid JSON"),
        ("dump.json", '{"id": "x"}', "one array of objects"),
        ("dump.ndjson", "{nope\n", "record 1: is not valid JSON"),
    ],
)
def test_unreadable_dumps(tmp_path, name, content, message):
    dump = tmp_path / name
    dump.write_text(content)
    result = run_cli("import", tmp_path / "m.db", dump)
    assert result.exit_code == 1 and message in result.output


@pytest.mark.parametrize(
    "text",
    ["a,b,c", "a,,c", '"",x,', '"a,b","c""d",e', '"multi\r\nline",x', '"ünï",😀', ",,", ""],
)
def test_csv_record_parser_agrees_with_python_csv_on_values(text):
    parsed = parse_csv_record(text, 1)
    expected = next(csv.reader(io.StringIO(text, newline=""))) if text else [""]
    assert [value or "" for value in parsed] == expected


def test_csv_parser_tells_null_from_empty_string():
    assert parse_csv_record('"",,x', 1) == ["", None, "x"]


@pytest.fixture
def mounted(tmp_path):
    """A tmpfs mounted with `options` at a new folder (root only; skips elsewhere)."""
    mounts = []

    def mount(options):
        folder = tmp_path / f"mount-{len(mounts)}"
        folder.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounts.append(folder)
        return folder

    yield mount
    for folder in mounts:
        subprocess.run(["umount", str(folder)], check=True)


def _export_to(sellers_db, output):
    return subprocess.run(
        [sys.executable, "-m", "datasette", "seller-export", "export", sellers_db, "--org"]
        + ["org-a", "-o", output],
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    "place,reason",
    [
        ("missing", "No such file or directory"),
        ("below a file", "Not a directory"),
        ("read-only", "Read-only file system"),
        ("full", "No space left on device"),
    ],
)
def test_export_to_a_path_that_cannot_be_written_says_so_in_one_line(
    sellers_db, tmp_path, mounted, place, reason
):
    if place == "missing":
        folder = tmp_path / "nodir"
    elif place == "below a file":
        folder = tmp_path / "a-file"
        folder.write_text("not a folder")
    else:
        folder = mounted("ro,size=1m" if place == "read-only" else "size=16k")
    output = str(folder / "sellers.csv")
    done = _export_to(sellers_db, output)
    assert done.returncode == 1
    (line,) = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert line == f"Error: {output}: cannot write the export there: {reason}"
    assert "Traceback" not in done.stderr and ".sellers-export-" not in done.stderr
    if folder.is_dir():
        assert os.listdir(folder) == []  # nothing half-written is left


def test_export_past_the_file_size_limit_leaves_nothing(sellers_db, tmp_path):
    import resource
    import signal

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    output = str(tmp_path / "sellers.csv")
    done = subprocess.run(
        [sys.executable, "-m", "datasette", "seller-export", "export", sellers_db, "--org"]
        + ["org-a", "-o", output],
        capture_output=True,
        text=True,
        preexec_fn=limit,
    )
    assert done.returncode == 1
    assert f"Error: {output}: cannot write the export there: File too large" in done.stderr
    assert os.listdir(tmp_path) == ["sellers.db"]


def test_export_of_an_organisation_without_sellers_names_the_ids_like_it(sellers_db):
    result = run_cli("export", sellers_db, "--org", "org-bb", "--format", "json")
    assert result.exit_code == 0 and result.stdout == "[]"
    assert "has no sellers of organisation 'org-bb'" in result.stderr
    assert "organisations with ids like it: org-b" in result.stderr
    plain = run_cli("export", sellers_db, "--org", "org-b", "--format", "json")
    assert "Warning" not in plain.stderr
