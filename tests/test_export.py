"""The streaming exports through Datasette's client equal the direct query, byte for byte."""

import json
import re

import pytest
import sqlite_utils
from support.oracle import INTERNAL, expected_export, expected_rows
from support.sellers import ROOT, build_sellers_db

from datasette_seller_export.config import DEFAULT_BATCH_SIZE
from datasette_seller_export.engine.database import threaded_execute
from datasette_seller_export.engine.functions import register_functions
from datasette_seller_export.engine.plans import value_rules_of
from datasette_seller_export.engine.schema import (
    COLUMN_TYPES,
    DECLARED_TYPES,
    STRICT_SUPPORTED,
    ValueRules,
    create_table_sql,
)

DECLARED_COLUMNS = [(column, DECLARED_TYPES[kind]) for column, kind in COLUMN_TYPES.items()]

FORMATS = ["csv", "json", "ndjson"]


def org_sizes_for(batch_size):
    """Organisations whose sizes sit on and around the batch size's edges."""
    return {
        "exact": 3 * batch_size,
        "plus-one": 3 * batch_size + 1,
        "minus-one": max(3 * batch_size - 1, 0),
        "single": 1,
        "none": 0,
    }


@pytest.mark.slow
@pytest.mark.asyncio
@pytest.mark.parametrize("batch_size", [1, 7, 100, DEFAULT_BATCH_SIZE])
async def test_exports_equal_direct_query_at_every_batch_edge(make_datasette, tmp_path, batch_size):
    sizes = org_sizes_for(batch_size)
    db_path = build_sellers_db(tmp_path / "sellers.db", sizes, seed=batch_size)
    ds = await make_datasette(db_path, plugin_config={"batch_size": batch_size}, root=True)
    for org_id in sizes:
        for fmt in FORMATS:
            response = await ds.client.get(f"/export/sellers/{fmt}?org_id={org_id}", actor=ROOT)
            assert response.status_code == 200, response.text
            assert response.text == expected_export(db_path, org_id, fmt), (org_id, fmt)


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("flagged", ["true", "FALSE", "1", "0", ""])
async def test_flagged_filter(ds, sellers_db, fmt, flagged):
    wanted = {"true": True, "false": False, "1": True, "0": False, "": None}[flagged.lower()]
    response = await ds.client.get(
        f"/export/sellers/{fmt}?org_id=org-a&flagged={flagged}", actor=ROOT
    )
    assert response.status_code == 200
    assert response.text == expected_export(sellers_db, "org-a", fmt, flagged=wanted)
    if wanted is not None:
        rows = expected_rows(sellers_db, "org-a", wanted)
        assert rows and all(bool(row["flagged"]) is wanted for row in rows)


@pytest.mark.asyncio
async def test_org_actor_gets_own_org_without_org_id(make_datasette, sellers_db):
    ds = await make_datasette(
        sellers_db, config={"permissions": {"seller_collection.read": {"org_id": "*"}}}
    )
    response = await ds.client.get("/export/sellers/csv", actor={"id": "u", "org_id": "org-b"})
    assert response.status_code == 200
    assert response.text == expected_export(sellers_db, "org-b", "csv")


@pytest.mark.asyncio
async def test_null_created_at_rows_come_last_in_id_order(ds, sellers_db):
    response = await ds.client.get("/export/sellers/ndjson?org_id=org-a", actor=ROOT)
    created = [json.loads(line)["created_at"] for line in response.text.split("\n")[:-1]]
    dated = [c for c in created if c is not None]
    assert None in created and dated
    assert created == dated + [None] * created.count(None)
    assert dated == sorted(dated, reverse=True)


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", FORMATS)
async def test_no_internal_column_or_value_and_no_soft_deleted_row(ds, sellers_db, fmt):
    body = (await ds.client.get(f"/export/sellers/{fmt}?org_id=org-a", actor=ROOT)).text
    for column in INTERNAL:
        assert not re.search(rf"\b{column}\b", body), column
    for marker in ("sid-", "INTERNAL-", "1999-01-01", "1998-06-06", "DELETED", "org-a"):
        assert marker not in body, marker


@pytest.mark.asyncio
async def test_csv_shape(ds, sellers_db):
    response = await ds.client.get("/export/sellers/csv?org_id=org-a", actor=ROOT)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text.startswith(
        "display_name,normalized_name,platform,platform_id,times_seen,"
        "feedback_percent,feedback_count,flagged,created_at\r\n"
    )
    # Formula-like text is neutralised; a negative number is not.
    assert "'=SUM(A1:A9)" in response.text and ",'=SUM" not in response.text.replace(
        "'=SUM(A1:A9)", ""
    )
    assert ",-3.5," in response.text and ",'-3.5," not in response.text
    assert "'-42" in response.text  # platform_id is text, so it is guarded


@pytest.mark.asyncio
async def test_csv_formula_guard_can_be_turned_off(make_datasette, sellers_db):
    ds = await make_datasette(sellers_db, plugin_config={"csv_escape_formulas": False}, root=True)
    response = await ds.client.get("/export/sellers/csv?org_id=org-a", actor=ROOT)
    assert response.text == expected_export(sellers_db, "org-a", "csv", escape_formulas=False)
    assert "'=SUM" not in response.text


@pytest.mark.asyncio
async def test_csv_bom(ds, sellers_db):
    response = await ds.client.get("/export/sellers/csv?org_id=org-b&_bom=1", actor=ROOT)
    assert response.content.startswith(b"\xef\xbb\xbfdisplay_name,")
    assert response.text == expected_export(sellers_db, "org-b", "csv", bom=True)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "fmt,content_type",
    [
        ("csv", "text/csv; charset=utf-8"),
        ("json", "application/json; charset=utf-8"),
        ("ndjson", "application/x-ndjson"),
    ],
)
async def test_headers_and_filename(ds, fmt, content_type):
    response = await ds.client.get(f"/export/sellers/{fmt}?org_id=org-b", actor=ROOT)
    assert response.headers["content-type"] == content_type
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(
        rf'attachment; filename="sellers-org-b-\d{{4}}-\d\d-\d\d\.{fmt}"', disposition
    )


@pytest.mark.asyncio
async def test_odd_org_id_is_made_safe_in_the_filename(ds, sellers_db):
    org_id = 'org/with "odd" id\r\n'
    response = await ds.client.get("/export/sellers/json", params={"org_id": org_id}, actor=ROOT)
    assert response.status_code == 200
    assert response.text == expected_export(sellers_db, org_id, "json")
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(
        r'attachment; filename="sellers-org_with__odd__id__-\d{4}-\d\d-\d\d\.json"; '
        r"filename\*=UTF-8''sellers-org%2Fwith%20%22odd%22%20id%0D%0A-\d{4}-\d\d-\d\d\.json",
        disposition,
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt,empty", [("csv", None), ("json", "[]"), ("ndjson", "")])
async def test_empty_exports(ds, fmt, empty):
    for org_id in ("org-empty", "no-such-org"):
        response = await ds.client.get(f"/export/sellers/{fmt}?org_id={org_id}", actor=ROOT)
        assert response.status_code == 200
        if empty is None:
            assert response.text.count("\r\n") == 1
        else:
            assert response.text == empty


@pytest.mark.asyncio
async def test_a_strict_mirror_exports_through_its_own_encoders_the_same_bytes(
    make_datasette, tmp_path
):
    sizes = {"o1": 2 * DEFAULT_BATCH_SIZE + 3}
    strict = build_sellers_db(tmp_path / "strict.db", sizes, seed=5)
    loose = build_sellers_db(tmp_path / "loose.db", sizes, seed=5, strict=False)
    any_typed = str(tmp_path / "any.db")
    db = sqlite_utils.Database(any_typed)
    columns = [(c, "ANY" if c == "times_seen" else t) for c, t in DECLARED_COLUMNS]
    db.execute(create_table_sql("sellers", columns=columns, strict=True))
    mirror = ValueRules(typed=STRICT_SUPPORTED, nul_free=STRICT_SUPPORTED)
    for path, rules in ((strict, mirror), (loose, ValueRules()), (any_typed, ValueRules())):
        async with threaded_execute(str(path), 1, register_functions) as execute:
            assert await value_rules_of(execute, "sellers") == rules, path
    exports = {}
    for path in (strict, loose):
        ds = await make_datasette(path, root=True)
        for fmt in FORMATS:
            response = await ds.client.get(f"/export/sellers/{fmt}?org_id=o1", actor=ROOT)
            assert response.text == expected_export(path, "o1", fmt), (path, fmt)
            exports.setdefault(fmt, set()).add(response.content)
    assert all(len(bodies) == 1 for bodies in exports.values())
