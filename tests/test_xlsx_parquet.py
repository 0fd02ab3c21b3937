"""XLSX and Parquet exports, read back by the tools people open them in (openpyxl, LibreOffice,
pyarrow, pandas, polars, DuckDB) and held value by value against the SQLite rows."""

import io
import json
import shutil
import sqlite3
import zipfile
from datetime import datetime, timezone

import duckdb
import pandas
import polars
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from datasette.cli import cli
from support.clients import raw_get, served_config
from support.oracle import EXPORTED, INTERNAL, expected_rows
from support.readers import as_moment, libreoffice_resaved, openpyxl_sheets, spreadsheet_row
from support.sellers import ADMIN, ROOT, TRICKY_TEXTS, build_sellers_db

from datasette_seller_export.engine.encoders import xlsx_row_sql
from datasette_seller_export.engine.functions import register_functions
from datasette_seller_export.engine.workbook import Workbook, column_letters
from datasette_seller_export.engine.zipstream import ZipStream

MOMENT = datetime(2026, 12, 5, 12, 0, 0)


def parquet_rows(table, columns=EXPORTED):
    """Parquet's rows as the oracle writes them: created_at back to the mirror's text."""
    rows = []
    for row in table.to_pylist():
        created = row.get("created_at")
        if created is not None:
            row["created_at"] = created.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if row.get("flagged") is not None:
            row["flagged"] = int(row["flagged"])
        rows.append({column: row[column] for column in columns})
    return rows


def oracle_rows(rows, columns=EXPORTED):
    return [{column: row[column] for column in columns} for row in rows]


# --- the ZIP and the workbook, apart from Datasette --------------------------------------


def test_a_zip_stream_is_a_zip_every_reader_opens():
    archive = ZipStream(MOMENT)
    body = archive.start("a.txt")
    for piece in (b"hello " * 10_000, b"", b"world"):
        body += archive.write(piece)
    body += archive.end_member() + archive.add("b/c.xml", b"<x/>") + archive.finish()
    opened = zipfile.ZipFile(io.BytesIO(body))
    assert opened.testzip() is None
    assert opened.read("a.txt") == b"hello " * 10_000 + b"world"
    assert opened.read("b/c.xml") == b"<x/>"
    assert opened.getinfo("a.txt").date_time == (2026, 12, 5, 12, 0, 0)


@pytest.mark.parametrize(
    "number, letters", [(1, "A"), (9, "I"), (26, "Z"), (27, "AA"), (703, "AAA")]
)
def test_column_letters(number, letters):
    assert column_letters(number) == letters


def encoded_rows(db_path, org_id):
    """Each of the org's rows as xlsx_row_sql writes it, in the export's order."""
    conn = sqlite3.connect(db_path)
    register_functions(conn)
    rows = conn.execute(
        f"SELECT {xlsx_row_sql()} FROM sellers WHERE org_id = ? AND deleted_at IS NULL"
        " ORDER BY created_at IS NULL, created_at DESC, id DESC",
        [org_id],
    ).fetchall()
    conn.close()
    return [row[0] for row in rows]


@pytest.mark.parametrize(
    "rows_per_sheet, batch_sizes, sheets",
    [
        (3, [2, 2, 2], 2),  # a batch across the boundary; the last sheet exactly full
        (3, [7], 3),  # one batch over three sheets
        (3, [3, 3, 1], 3),  # batches that end on the boundary
        (10, [4], 1),
    ],
)
def test_rows_past_a_sheet_go_on_in_the_next_each_with_its_header(
    tmp_path, rows_per_sheet, batch_sizes, sheets
):
    db_path = build_sellers_db(tmp_path / "s.db", {"o": sum(batch_sizes)})
    rows = encoded_rows(db_path, "o")
    workbook = Workbook(EXPORTED, rows_per_sheet=rows_per_sheet)
    body = workbook.begin()
    for size in batch_sizes:
        batch, rows = rows[:size], rows[size:]
        body += workbook.add(b"".join(batch), size)
    body += workbook.end()
    read = openpyxl_sheets(io.BytesIO(body))
    assert list(read) == ["sellers"] + [f"sellers {n}" for n in range(2, sheets + 1)]
    expected = [spreadsheet_row(row) for row in expected_rows(db_path, "o")]
    cells = []
    for sheet in read.values():
        assert sheet[0] == EXPORTED and 1 <= len(sheet) - 1 <= rows_per_sheet
        cells += sheet[1:]
    assert cells == expected


def test_the_header_is_bold_frozen_and_filtered_and_dates_show_as_dates(tmp_path):
    import openpyxl

    db_path = build_sellers_db(tmp_path / "s.db", {"o": 5})
    workbook = Workbook(EXPORTED)
    body = workbook.begin() + workbook.add(b"".join(encoded_rows(db_path, "o")), 5)
    sheet = openpyxl.load_workbook(io.BytesIO(body + workbook.end()))["sellers"]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:I6"
    dated = [row[8] for row in sheet.iter_rows(min_row=2) if row[8].value is not None]
    assert dated and all(cell.number_format == "yyyy-mm-dd hh:mm:ss" for cell in dated)


def loose_table(tmp_path, values):
    """A table another writer made, typeless, holding `values` (column: value) in one row."""
    path = str(tmp_path / "loose.db")
    conn = sqlite3.connect(path)
    conn.execute(f"CREATE TABLE sellers (id, org_id, deleted_at, {', '.join(EXPORTED)})")
    row = {"id": "1", "org_id": "o", **values}
    conn.execute(
        f"INSERT INTO sellers ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
        list(row.values()),
    )
    conn.commit()
    conn.close()
    return path


@pytest.mark.parametrize(
    "column, value, cell",
    [
        ("display_name", "_x0041_ is not A", "_x0041_ is not A"),
        ("display_name", "nul\x00inside", "nul\x00inside"),
        ("display_name", "\ufffe\uffff\x0b\x0c", "\ufffe\uffff\x0b\x0c"),
        ("display_name", "a & b < c > d", "a & b < c > d"),
        ("display_name", '=HYPERLINK("x")', '=HYPERLINK("x")'),
        ("display_name", "  spaced  ", "  spaced  "),
        ("display_name", 42, 42),  # a number in a text column stays a number
        ("display_name", b"\xe2\x82\xac", "€"),  # a BLOB, as its text
        ("times_seen", "many", "many"),  # text in a number column stays text
        ("times_seen", 2.5, 2.5),
        ("feedback_percent", float("inf"), "1e999"),  # no number cell holds infinity
        ("feedback_percent", 0.1 + 0.2, 0.30000000000000004),
        ("feedback_count", -(2**53), -(2**53)),
        ("flagged", 7, True),
        ("flagged", 0, False),
        ("created_at", "2024-03-31T01:10:00.123456Z", datetime(2024, 3, 31, 1, 10, 0, 123000)),
        ("created_at", "2024-03-31 01:10:00.9996", datetime(2024, 3, 31, 1, 10, 1)),
        ("created_at", "2024-02-28T23:59:59.9999Z", datetime(2024, 2, 29)),
        ("created_at", "1900-02-28T00:00:00.000000Z", "1900-02-28T00:00:00.000000Z"),
        ("created_at", "1900-03-01T00:00:00.000000Z", datetime(1900, 3, 1)),
        ("created_at", "9999-12-31T23:59:59.000000Z", datetime(9999, 12, 31, 23, 59, 59)),
        ("created_at", "2024-02-30T00:00:00Z", "2024-02-30T00:00:00Z"),  # no such day
        ("created_at", "yesterday", "yesterday"),
        ("created_at", "now", "now"),  # julianday() would read it as the time of the export
    ],
)
def test_a_loose_tables_awkward_values_keep_their_value(tmp_path, column, value, cell):
    path = loose_table(tmp_path, {column: value})
    workbook = Workbook(EXPORTED)
    body = workbook.begin() + workbook.add(encoded_rows(path, "o")[0], 1) + workbook.end()
    row = openpyxl_sheets(io.BytesIO(body))["sellers"][1]
    assert row[EXPORTED.index(column)] == cell
    others = [v for c, v in zip(EXPORTED, row, strict=True) if c != column]
    assert others == [None] * (len(EXPORTED) - 1)  # a NULL keeps its column: an empty cell


def test_a_moment_is_rounded_to_the_millisecond_as_sqlite_rounds_it():
    assert as_moment("2024-03-31T01:10:00.9996Z") == datetime(2024, 3, 31, 1, 10, 1)


# --- through Datasette ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_xlsx_export_is_the_rows_cell_for_cell(ds, sellers_db):
    response = await ds.client.get("/export/sellers/xlsx?org_id=org-a", actor=ROOT)
    assert response.status_code == 200, response.text
    sheets = openpyxl_sheets(io.BytesIO(response.content))
    expected = [spreadsheet_row(row) for row in expected_rows(sellers_db, "org-a")]
    assert sheets == {"sellers": [EXPORTED] + expected}
    names = {row["display_name"] for row in expected_rows(sellers_db, "org-a")}
    assert names >= {t for t in TRICKY_TEXTS if t.strip()} - {"   "}  # the awkward ones are in


@pytest.mark.asyncio
async def test_parquet_export_is_the_rows_typed_in_every_reader(ds, sellers_db, tmp_path):
    response = await ds.client.get("/export/sellers/parquet?org_id=org-a", actor=ROOT)
    assert response.status_code == 200, response.text
    path = tmp_path / "sellers.parquet"
    path.write_bytes(response.content)
    table = pq.read_table(path)
    assert table.schema == pa.schema(
        [
            ("display_name", pa.string()),
            ("normalized_name", pa.string()),
            ("platform", pa.string()),
            ("platform_id", pa.string()),
            ("times_seen", pa.int64()),
            ("feedback_percent", pa.float64()),
            ("feedback_count", pa.int64()),
            ("flagged", pa.bool_()),
            ("created_at", pa.timestamp("us", tz="UTC")),
        ]
    )
    expected = oracle_rows(expected_rows(sellers_db, "org-a"))
    assert parquet_rows(table) == expected
    assert parquet_rows(pa.Table.from_pandas(pandas.read_parquet(path))) == expected
    assert parquet_rows(polars.read_parquet(path).to_arrow()) == expected
    assert (
        parquet_rows(duckdb.sql(f"SELECT * FROM read_parquet('{path}')").to_arrow_table())
        == expected
    )
    # NULL is not empty text: both are there, and stay apart.
    names = table.column("display_name").to_pylist()
    assert None in names and "" in names


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "query",
    [
        "flagged=1",
        "q=line",
        "_sort=times_seen",
        "_sort_desc=feedback_percent",
        "platform=ebay&times_seen__gte=500",
        "_col=display_name&_col=created_at",
        "_nocol=platform_id&_nocol=flagged",
    ],
)
async def test_every_selection_applies_as_on_json(ds, query):
    base = f"/export/sellers/{{}}?org_id=org-a&{query}"
    json_rows = (await ds.client.get(base.format("json"), actor=ROOT)).json()
    columns = tuple(json_rows[0]) if json_rows else EXPORTED
    xlsx = await ds.client.get(base.format("xlsx"), actor=ROOT)
    sheet = openpyxl_sheets(io.BytesIO(xlsx.content))["sellers"]
    assert sheet == [columns] + [spreadsheet_row(row, columns) for row in json_rows]
    parquet = await ds.client.get(base.format("parquet"), actor=ROOT)
    table = pq.read_table(io.BytesIO(parquet.content))
    assert tuple(table.column_names) == columns
    for row in json_rows:
        if "flagged" in row and row["flagged"] is not None:
            row["flagged"] = int(row["flagged"])
    assert parquet_rows(table, columns) == json_rows


@pytest.mark.asyncio
async def test_an_organisation_without_rows_is_a_header_and_a_schema(ds):
    xlsx = await ds.client.get("/export/sellers/xlsx?org_id=org-empty", actor=ROOT)
    assert openpyxl_sheets(io.BytesIO(xlsx.content)) == {"sellers": [EXPORTED]}
    parquet = await ds.client.get("/export/sellers/parquet?org_id=org-empty", actor=ROOT)
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == 0 and tuple(table.column_names) == EXPORTED


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "fmt, content_type",
    [
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("parquet", "application/vnd.apache.parquet"),
    ],
)
@pytest.mark.parametrize("accept", ["zstd, gzip", "gzip", "*", ""])
async def test_sent_as_they_are_whatever_accept_encoding_says(ds, fmt, content_type, accept):
    path = f"/export/sellers/{fmt}?org_id=org-a"
    response = await ds.client.get(path, actor=ROOT, headers={"accept-encoding": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert "content-encoding" not in response.headers
    disposition = response.headers["content-disposition"]
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert disposition == f'attachment; filename="sellers-org-a-{today}.{fmt}"'
    head = await ds.client.request("HEAD", path, actor=ROOT)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == content_type


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
async def test_errors_before_the_first_byte_are_datasettes_json(ds, fmt):
    response = await ds.client.get(f"/export/sellers/{fmt}?org_id=org-a&_bom=1", actor=ROOT)
    assert response.status_code == 400 and response.json()["ok"] is False
    response = await ds.client.get(f"/export/sellers/{fmt}?org_id=org-a")
    assert response.status_code in (401, 403) and response.json()["ok"] is False


@pytest.mark.asyncio
async def test_no_internal_column_reaches_either_file(ds):
    for fmt in ("xlsx", "parquet"):
        response = await ds.client.get(f"/export/sellers/{fmt}?org_id=org-a", actor=ROOT)
        if fmt == "xlsx":
            archive = zipfile.ZipFile(io.BytesIO(response.content))
            text = b"".join(archive.read(name) for name in archive.namelist()).decode()
        else:
            text = json.dumps(pq.read_table(io.BytesIO(response.content)).to_pylist(), default=str)
            text += str(pq.read_schema(io.BytesIO(response.content)))
        assert "INTERNAL-" not in text and "sid-" not in text and "1999-01-01" not in text
        assert not any(f'"{column}"' in text for column in INTERNAL if column != "id")


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
async def test_the_table_pages_renderers_hand_over(ds, fmt):
    page = await ds.client.get("/sellers/sellers?org_id=org-a", actor=ROOT)
    assert f"sellers_{fmt}" in page.text
    response = await ds.client.get(f"/sellers/sellers.sellers_{fmt}?org_id=org-a", actor=ROOT)
    assert response.status_code == 302
    assert response.headers["location"] == f"/export/sellers/{fmt}?org_id=org-a"


@pytest.mark.asyncio
async def test_the_browse_page_offers_both(ds):
    page = await ds.client.get("/-/sellers?org_id=org-a", actor=ROOT)
    assert 'href="/export/sellers/xlsx?org_id=org-a"' in page.text
    assert 'href="/export/sellers/parquet?org_id=org-a"' in page.text


def test_the_command_line_writes_each_as_its_name_ends(sellers_db, tmp_path):
    expected = expected_rows(sellers_db, "org-a")
    for name in ("out.xlsx", "out.parquet"):
        out = tmp_path / name
        result = CliRunner().invoke(
            cli, ["seller-export", "export", sellers_db, "--org", "org-a", "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        if name.endswith(".xlsx"):
            rows = openpyxl_sheets(out)["sellers"]
            assert rows == [EXPORTED] + [spreadsheet_row(row) for row in expected]
        else:
            assert parquet_rows(pq.read_table(out)) == oracle_rows(expected)


@pytest.mark.parametrize(
    "args", [["-o", "out.xlsx.gz"], ["-o", "out.parquet", "--compress", "zstd"]]
)
def test_the_command_line_refuses_to_compress_them_again(sellers_db, tmp_path, args):
    args = [a if not a.startswith("out.") else str(tmp_path / a) for a in args]
    result = CliRunner().invoke(
        cli, ["seller-export", "export", sellers_db, "--org", "org-a", *args]
    )
    assert result.exit_code == 2 and "compressed already" in result.output
    assert list(tmp_path.iterdir()) == [tmp_path / "sellers.db"]  # nothing written


@pytest.mark.served
@pytest.mark.skipif(shutil.which("soffice") is None, reason="needs libreoffice-calc-nogui")
def test_libreoffice_reads_every_value(sellers_db, tmp_path):
    """LibreOffice, headless, reads the workbook as it is (its own save read back): every
    value but three of its own ways, which are not the file's: it keeps 15 significant digits
    of a number, a cell's CRLF becomes its line break, LF, and empty text an empty cell."""
    out = tmp_path / "sellers.xlsx"
    result = CliRunner().invoke(
        cli, ["seller-export", "export", sellers_db, "--org", "org-a", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output

    def libreoffice_way(value):
        if isinstance(value, float):
            return float(f"{value:.15g}")
        if isinstance(value, str):
            return value.replace("\r\n", "\n") or None
        return value

    expected = [spreadsheet_row(row) for row in expected_rows(sellers_db, "org-a")]
    read = libreoffice_resaved(out)["sellers"]
    assert read[0] == EXPORTED
    assert read[1:] == [tuple(map(libreoffice_way, row)) for row in expected]


# --- over a real `datasette serve` ------------------------------------------------------

FILE_READERS = {
    "xlsx": lambda body: openpyxl_sheets(io.BytesIO(body)),
    "parquet": lambda body: pq.read_table(io.BytesIO(body)),
}


@pytest.fixture(scope="module")
def served_db(tmp_path_factory):
    return build_sellers_db(tmp_path_factory.mktemp("files") / "sellers.db", {"big": 3_000})


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_a_failure_mid_export_leaves_a_file_that_does_not_open(serve, tmp_path, served_db, fmt):
    server = serve(
        served_db,
        *served_config(tmp_path, batch_size=50, parallel_batches=1),
        env_extra={"TEST_FAIL_AT_BATCH": "30"},
    )
    status, headers, chunks, complete = raw_get(server, f"/export/sellers/{fmt}?org_id=big", ADMIN)
    assert status == 200 and chunks and not complete
    with pytest.raises(Exception) as raised:
        FILE_READERS[fmt](b"".join(chunks))
    assert not isinstance(raised.value, AssertionError)
    assert "failed after the first byte; aborting the connection" in server.stop()


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_whole_files_stream_in_batches_and_a_hang_up_stops_them(serve, tmp_path, served_db, fmt):
    server = serve(
        served_db,
        *served_config(tmp_path, batch_size=50, parallel_batches=1),
        env_extra={"TEST_BATCH_DELAY": "0.02"},
    )
    path = f"/export/sellers/{fmt}?org_id=big"
    status, headers, chunks, complete = raw_get(
        server, path, ADMIN, headers=[("Accept-Encoding", "gzip")]
    )
    assert status == 200 and complete and "content-encoding" not in headers
    assert len(chunks) > 1  # sent as it is written, not at the end
    whole = FILE_READERS[fmt](b"".join(chunks))
    rows = len(whole["sellers"]) - 1 if fmt == "xlsx" else whole.num_rows
    assert rows == len(expected_rows(served_db, "big"))
    status, _, chunks, complete = raw_get(server, path, ADMIN, read_chunks=1)
    assert status == 200 and not complete
    assert "client disconnected, export stopped" in server.stop()


def test_without_pyarrow_parquet_says_how_to_install_it_and_is_not_offered(
    serve, tmp_path, served_db
):
    # A pyarrow that cannot be imported, ahead of the real one on the server's path.
    shadow = tmp_path / "shadow" / "pyarrow"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('pyarrow is not installed')\n")
    server = serve(
        served_db,
        *served_config(tmp_path),
        "--root",
        env_extra={"PYTHONPATH": str(shadow.parent)},
    )
    status, _, chunks, _ = raw_get(server, "/export/sellers/parquet?org_id=big", ADMIN)
    assert status == 501
    error = json.loads(b"".join(chunks))["error"]
    assert "pip install 'datasette-seller-export[parquet]'" in error
    status, _, chunks, _ = raw_get(server, "/-/sellers?org_id=big", ADMIN)
    page = b"".join(chunks).decode()
    assert (
        status == 200 and "/export/sellers/xlsx" in page and "/export/sellers/parquet" not in page
    )
    status, _, chunks, _ = raw_get(server, "/sellers/sellers?org_id=big", ADMIN)
    table_page = b"".join(chunks).decode()
    assert "sellers_xlsx" in table_page and "sellers_parquet" not in table_page
    server.stop()
