"""The SQL the encoders and the keyset engine generate, held against reference files in
tests/reference_sql/, so that any change to it shows in review as a readable SQL diff.

After a deliberate change, write the files anew and read the diff:

    SELLER_EXPORT_WRITE_REFERENCE_SQL=1 pytest tests/test_reference_sql.py
"""

import json
import os
from dataclasses import replace

import pytest
from sql_layout import layout

from datasette_seller_export.engine.encoders import ROW_ENCODINGS, row_sql
from datasette_seller_export.engine.queries import (
    batch_query,
    boundary_query,
    listed_batch_query,
    match_list_query,
)
from datasette_seller_export.engine.schema import MIRROR_VALUES
from datasette_seller_export.engine.selection import DEFAULT_SORT, Position, Search, Selection, Sort

REFERENCE = os.path.join(os.path.dirname(__file__), "reference_sql")
WRITE = os.environ.get("SELLER_EXPORT_WRITE_REFERENCE_SQL") == "1"
SELECTION = Selection(table="sellers", org_id="org-1")
BATCH_SIZE = 2_000  # the default
# Stands for a format's row expression in the batch files; each format's is in its own file.
ROW = "row_expression"
AFTER_A_ROW = Position(value="2025-03-01T10:00:00Z", id="sid-1")
# A search whose matches in the whole table with_search_plan listed.
LISTED_SEARCH = Search("acme", "sellers_fts", matches="[3,5,8]")
BATCHES = {
    "first": (SELECTION, None),
    "after-a-dated-row": (SELECTION, AFTER_A_ROW),
    "after-an-undated-row": (SELECTION, Position(value=None, id="sid-1")),
    # An ascending sort puts NULLs last as well, so its first batch is two walks.
    "first-by-feedback_percent": (
        replace(SELECTION, sort=Sort("feedback_percent", descending=False)),
        None,
    ),
    # Walking back from a row, for the previous page: NULLs come first.
    "backwards-after-a-dated-row": (replace(SELECTION, sort=DEFAULT_SORT.reversed()), AFTER_A_ROW),
    "searched-with-the-index": (replace(SELECTION, search=Search("acme", "sellers_fts")), None),
    "searched-without-the-index": (replace(SELECTION, search=Search("ac", "sellers_fts")), None),
    "searched-matches-listed": (replace(SELECTION, search=LISTED_SEARCH), None),
    "flagged": (replace(SELECTION, flagged=True), None),
}


def check(name, text):
    path = os.path.join(REFERENCE, name)
    if WRITE:
        with open(path, "w", encoding="utf-8") as fp:
            fp.write(text)
    with open(path, encoding="utf-8") as fp:
        assert fp.read() == text, f"{name} differs: see this test's docstring"


def test_layout_changes_only_whitespace():
    sql = row_sql("csv")
    assert "".join(layout(sql).split()) == "".join(sql.split())
    assert "' || char(13, 10) || '" in layout(sql)  # literals are kept whole


@pytest.mark.parametrize("fmt", ROW_ENCODINGS)
def test_row_expression(fmt):
    header = f"-- How one row becomes its {fmt} bytes (default settings).\n"
    check(f"row-{fmt}.sql", header + layout(row_sql(fmt)))


@pytest.mark.parametrize("fmt", ROW_ENCODINGS)
def test_row_expression_of_a_strict_table(fmt):
    header = (
        f"-- How one row of a mirror made by the plugin becomes its {fmt} bytes (default\n"
        "-- settings): its STRICT table fixes each value's storage class, and its CHECKs keep\n"
        "-- NUL out, so neither is checked here.\n"
    )
    check(f"row-{fmt}-strict.sql", header + layout(row_sql(fmt, rules=MIRROR_VALUES)))


@pytest.mark.parametrize("name, selection, after", [(n, *v) for n, v in BATCHES.items()])
def test_batch_query(name, selection, after):
    sql, params = batch_query(selection, ROW, BATCH_SIZE, after)
    del params["separator"]  # the format's (or the API's) separator between rows
    header = (
        f"-- The batch query, {name.replace('-', ' ')}; {ROW} is a format's row-*.sql.\n"
        f"-- Parameters besides :separator: {json.dumps(params)}\n"
    )
    check(f"batch-{name}.sql", header + layout(sql))
    # The two files together are exactly the query each format runs.
    for encoding in ROW_ENCODINGS:
        row = row_sql(encoding)
        assert batch_query(selection, row, BATCH_SIZE, after)[0] == sql.replace(ROW, row)


def test_a_listed_export():
    """A whole export of a search with listed matches: the list, then each batch."""
    selection = replace(SELECTION, search=LISTED_SEARCH, sort=Sort("feedback_percent", False))
    sql, params = match_list_query(selection)
    header = (
        "-- A searched export's first query: the organisation's matching rows, in order.\n"
        f"-- Parameters: {json.dumps(params)}\n"
    )
    check("export-listed-rows.sql", header + layout(sql))
    sql, params = listed_batch_query(selection, ROW, "[8,3]")
    del params["separator"]
    header = (
        f"-- Then each batch of that list; {ROW} is a format's row-*.sql.\n"
        f"-- Parameters besides :separator: {json.dumps(params)}\n"
    )
    check("export-listed-batch.sql", header + layout(sql))


RANGES = {
    # The first range of a parallel export: from the first row to a boundary, included.
    "first": (SELECTION, None, AFTER_A_ROW),
    # A range that runs from rows with a sort value into rows without.
    "into-undated-rows": (SELECTION, AFTER_A_ROW, Position(value=None, id="sid-9")),
}


@pytest.mark.parametrize("name, selection, after, until", [(n, *v) for n, v in RANGES.items()])
def test_a_parallel_export(name, selection, after, until):
    """A parallel export: a key-only walk finds where a range ends, then a batch reads it."""
    sql, params = boundary_query(selection, BATCH_SIZE, after)
    header = (
        f"-- A parallel export finds where its next range ends ({name.replace('-', ' ')}).\n"
        f"-- Parameters: {json.dumps(params)}\n"
    )
    check(f"export-boundary-{name}.sql", header + layout(sql))
    sql, params = batch_query(selection, ROW, BATCH_SIZE + 1, after, until=until)
    del params["separator"]
    header = (
        f"-- Then a batch reads the range ({name.replace('-', ' ')}); {ROW} is a format's"
        f" row-*.sql.\n-- Parameters besides :separator: {json.dumps(params)}\n"
    )
    check(f"export-range-{name}.sql", header + layout(sql))
