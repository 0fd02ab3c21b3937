"""The SQL the encoders and the keyset engine generate, held against reference files in
tests/reference_sql/, so that any change to it shows in review as a readable SQL diff.

After a deliberate change, write the files anew and read the diff:

    SELLER_EXPORT_WRITE_REFERENCE_SQL=1 pytest tests/test_reference_sql.py
"""

import json
import os

import pytest
from sql_layout import layout

from datasette_seller_export.engine.encoders import FORMATS
from datasette_seller_export.engine.keyset import Position, Selection, batch_query

REFERENCE = os.path.join(os.path.dirname(__file__), "reference_sql")
WRITE = os.environ.get("SELLER_EXPORT_WRITE_REFERENCE_SQL") == "1"
SELECTION = Selection(table="sellers", org_id="org-1")
BATCH_SIZE = 2_000  # the default
# Stands for a format's row expression in the batch files; each format's is in its own file.
ROW = "row_expression"
BATCHES = {
    "first": None,
    "after-a-dated-row": Position(created_at="2025-03-01T10:00:00Z", id="sid-1"),
    "after-an-undated-row": Position(created_at=None, id="sid-1"),
}


def check(name, text):
    path = os.path.join(REFERENCE, name)
    if WRITE:
        with open(path, "w", encoding="utf-8") as fp:
            fp.write(text)
    with open(path, encoding="utf-8") as fp:
        assert fp.read() == text, f"{name} differs: see this test's docstring"


def test_layout_changes_only_whitespace():
    sql = FORMATS["csv"].row_sql()
    assert "".join(layout(sql).split()) == "".join(sql.split())
    assert "' || char(13, 10) || '" in layout(sql)  # literals are kept whole


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_row_expression(fmt):
    header = f"-- How one row becomes its {fmt} bytes (default settings).\n"
    check(f"row-{fmt}.sql", header + layout(FORMATS[fmt].row_sql()))


@pytest.mark.parametrize("name, after", list(BATCHES.items()))
def test_batch_query(name, after):
    sql, params = batch_query(SELECTION, ROW, BATCH_SIZE, after)
    del params["separator"]  # the format's (or the API's) separator between rows
    header = (
        f"-- The batch query, {name.replace('-', ' ')}; {ROW} is a format's row-*.sql.\n"
        f"-- Parameters besides :separator: {json.dumps(params)}\n"
    )
    check(f"batch-{name}.sql", header + layout(sql))
    # The two files together are exactly the query each format runs.
    for fmt in FORMATS.values():
        row_sql = fmt.row_sql()
        assert batch_query(SELECTION, row_sql, BATCH_SIZE, after)[0] == sql.replace(ROW, row_sql)
