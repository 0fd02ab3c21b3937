"""Datasette's table conventions on the sellers: column filters, chosen columns and facets, on
the exports, the API, the browse page and the command line, each checked against rows filtered
in Python (support.oracle.keeps), not against the plugin's own SQL."""

import collections
import json
import re
import sqlite3
import urllib.parse

import pytest
from support.clients import page_through, run_cli
from support.oracle import (
    EXPORTED,
    chosen,
    encode_csv,
    encode_json,
    expected_rows,
    keeps,
)
from support.plans import table_row_reads
from support.sellers import ROOT

from datasette_seller_export.config import Limits, replace_config
from datasette_seller_export.engine.database import threaded_execute
from datasette_seller_export.engine.functions import register_functions
from datasette_seller_export.engine.plans import plan_selection, rows_to_scan, with_filter_plan
from datasette_seller_export.engine.queries import (
    RANGE_FACET_VALUES,
    batch_query,
    facet_query,
    filter_count_query,
)
from datasette_seller_export.engine.schema import SORTABLE_COLUMNS
from datasette_seller_export.engine.selection import (
    ParameterError,
    Selection,
    parse_criteria,
    parse_filter,
)

# (parameter, value): every operator, on text, numeric and timestamp columns, with the values
# the test mirror holds (support.sellers: TRICKY_TEXTS, platforms, CREATED_AT_POOL).
FILTERS = [
    ("platform", "ebay"),
    ("platform__exact", "etsy"),
    ("platform__not", "ebay"),
    ("display_name__contains", "seller"),
    ("display_name__contains", "INC"),
    ("display_name__notcontains", "e"),
    ("display_name__startswith", "plain"),
    ("display_name__endswith", "'s"),
    ("platform__contains", "%"),  # literal: no platform holds a percent sign
    ("display_name__contains", "_"),  # literal: only names with an underscore
    ("times_seen__gt", "500"),
    ("times_seen__gte", "999"),
    ("times_seen__lt", "10"),
    ("times_seen__lte", "1"),
    ("times_seen", "42"),
    ("feedback_percent__gt", "87.25"),
    ("feedback_percent", "100"),
    ("feedback_percent__lt", "0.1"),
    ("feedback_count__gte", "500000"),
    ("platform__in", "ebay,amazon"),
    ("platform__in", '["etsy"]'),
    ("platform__notin", "ebay"),
    ("platform_id__in", '["007", -42]'),
    ("times_seen__in", "[1, 2, 3, 500]"),
    ("platform__isnull", "1"),
    ("platform__notnull", "1"),
    ("display_name__isblank", "1"),
    ("display_name__notblank", "1"),
    ("display_name__like", "%s%"),
    ("display_name__notlike", "P%"),
    ("platform__glob", "e*"),
    ("created_at__gte", "2025-02-01"),
    ("created_at__lt", "2025-01-01"),
    ("created_at__date", "2025-03-01"),
    ("created_at__date", "2024-12-31"),
    ("normalized_name__exact", "plain seller"),
    ("platform_id__startswith", "0"),
]


def _oracle(db, org, pairs, sort=None):
    column, desc = sort or ("created_at", True)
    rows = expected_rows(db, org, sort=column, desc=desc)
    for parameter, text in pairs:
        column_name, _, operator = parameter.partition("__")
        rows = [r for r in rows if keeps(r, column_name, operator or "exact", text)]
    return rows


@pytest.mark.asyncio
@pytest.mark.parametrize("parameter,text", FILTERS)
async def test_each_filter_keeps_what_python_keeps(ds, sellers_db, parameter, text):
    query = urllib.parse.urlencode({"org_id": "org-a", parameter: text})
    rows, _ = await page_through(ds, query + "&_size=60")
    wanted = _oracle(sellers_db, "org-a", [(parameter, text)])
    assert rows == json.loads(encode_json(wanted))
    response = await ds.client.get(f"/export/sellers/csv?{query}", actor=ROOT)
    assert response.status_code == 200
    assert response.text == encode_csv(wanted)


@pytest.mark.asyncio
@pytest.mark.parametrize("sort", [None, ("times_seen", False), ("platform", True)])
async def test_filters_and_flagged_and_search_are_anded(ds, sellers_db, sort):
    pairs = [("platform__in", "ebay,etsy"), ("times_seen__gte", "100"), ("created_at__gte", "2025")]
    query = [("org_id", "org-a"), ("flagged", "false"), ("q", "e"), *pairs, ("_size", "17")]
    if sort:
        query.append(("_sort_desc" if sort[1] else "_sort", sort[0]))
    rows, _ = await page_through(ds, urllib.parse.urlencode(query))
    wanted = [
        r
        for r in _oracle(sellers_db, "org-a", pairs, sort)
        if r["flagged"] == 0
        and any("e" in (r[c] or "").lower() for c in ("display_name", "normalized_name"))
    ]
    assert wanted and rows == json.loads(encode_json(wanted))


@pytest.mark.asyncio
async def test_chosen_columns_follow_the_allowlists_order_everywhere(ds, sellers_db):
    query = "org_id=org-a&_col=times_seen&_col=display_name&_col=flagged&platform=ebay"
    columns = ("display_name", "times_seen", "flagged")
    wanted = chosen(_oracle(sellers_db, "org-a", [("platform", "ebay")]), columns)
    csv_text = (await ds.client.get(f"/export/sellers/csv?{query}", actor=ROOT)).text
    assert csv_text.splitlines()[0] == "display_name,times_seen,flagged"
    assert csv_text == encode_csv(wanted, columns=columns)
    exported = (await ds.client.get(f"/export/sellers/json?{query}", actor=ROOT)).json()
    assert exported == json.loads(encode_json(wanted))
    rows, _ = await page_through(ds, query + "&_size=7")
    assert rows == exported
    dropped = "/export/sellers/ndjson?org_id=org-a&_nocol=platform&_nocol=created_at"
    first = json.loads((await ds.client.get(dropped, actor=ROOT)).text.splitlines()[0])
    assert list(first) == [c for c in EXPORTED if c not in ("platform", "created_at")]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "query,fragment",
    [
        ("id=sid-1", "Cannot filter by 'id': it is not exported"),
        ("org_id__exact=org-b", "Cannot filter by 'org_id': it is not exported"),
        ("deleted_at__notnull=1", "Cannot filter by 'deleted_at'"),
        ("updated_at__gt=1", "Cannot filter by 'updated_at'"),
        ("first_seen_run_id__contains=INTERNAL", "Cannot filter by 'first_seen_run_id'"),
        ("colour=red", "Unknown parameter 'colour'"),
        ("colour__exact=red", "Cannot filter by 'colour': it is not a column"),
        ("flagged__exact=1", "flagged has its own filter"),
        ("platform__near=ebay", "'near' is not a filter"),
        ("times_seen__gt=lots", "times_seen is a number"),
        ("feedback_percent=nan", "feedback_percent is a number"),
        ("times_seen__in=1,two", "times_seen is a number"),
        ('platform__in=[{"a":1}]', "is not a JSON array of strings and numbers"),
        ("platform__in=[ebay", "is not a JSON array"),
        ("created_at__date=2025-13-01", "is not a day"),
        ("created_at__date=yesterday", "is not a day"),
        ("platform__date=2025-01-01", "__date applies to created_at only"),
        ("platform__isnull=no", "takes no value"),
        ("_where=1=1", "_where is not accepted"),
        ("_through={}", "_through is not accepted"),
        ("_search_display_name=x", "_search_display_name is not accepted"),
        ("platform=ebay&platform__exact=etsy", "platform__exact was given more than once"),
        ("times_seen__gt=1&times_seen__gt=2", "times_seen__gt was given more than once"),
        ("_col=id", "Cannot choose column 'id': it is not exported"),
        ("_col=colour", "Cannot choose column 'colour': it is not a column"),
        ("_nocol=" + "&_nocol=".join(EXPORTED), "No columns are left"),
        ("_col=platform&_nocol=platform", "No columns are left"),
    ],
)
async def test_bad_filters_and_columns_are_a_400_naming_them(ds, query, fragment):
    for path in ("/export/sellers/csv", "/-/sellers.json"):
        response = await ds.client.get(f"{path}?org_id=org-a&{query}", actor=ROOT)
        assert response.status_code == 400, (path, response.text)
        assert fragment in response.json()["error"], response.json()["error"]
    page = await ds.client.get(f"/-/sellers?org_id=org-a&{query}", actor=ROOT)
    assert page.status_code == 400


@pytest.mark.asyncio
async def test_no_filter_reaches_another_organisation(ds, sellers_db):
    """Filters narrow the actor's organisation; none widens it, whatever it matches."""
    for parameter, text in (
        ("display_name__notblank", "1"),
        ("platform__notin", "nothing"),
        ("times_seen__gte", "0"),
    ):
        query = urllib.parse.urlencode({"org_id": "org-b", parameter: text})
        response = await ds.client.get(f"/export/sellers/json?{query}", actor=ROOT)
        assert len(response.json()) == len(_oracle(sellers_db, "org-b", [(parameter, text)]))
        assert "INTERNAL" not in response.text and "org-a" not in response.text


@pytest.mark.asyncio
async def test_tokens_are_bound_to_the_filters_and_columns(ds):
    base = "/-/sellers.json?org_id=org-a&_size=5&platform=ebay&_col=display_name"
    first = (await ds.client.get(base, actor=ROOT)).json()
    token = first["next"]
    same = await ds.client.get(f"{base}&_next={token}", actor=ROOT)
    assert same.status_code == 200
    # platform and platform__exact are one filter: the token is for what it means.
    spelt = base.replace("platform=", "platform__exact=")
    assert (await ds.client.get(f"{spelt}&_next={token}", actor=ROOT)).status_code == 200
    for other in (
        base.replace("ebay", "etsy"),
        base + "&times_seen__gt=1",
        base.replace("&_col=display_name", ""),
        base.replace("_col=display_name", "_col=platform"),
    ):
        response = await ds.client.get(f"{other}&_next={token}", actor=ROOT)
        assert response.status_code == 400
        assert "column filters and columns" in response.json()["error"]
    for altered in (token + "x", token + "=", token[:-1], " " + token):
        response = await ds.client.get(f"{base}&_next={urllib.parse.quote(altered)}", actor=ROOT)
        assert response.status_code == 400, altered
        assert "not a valid paging token" in response.json()["error"]


@pytest.mark.asyncio
async def test_facets_count_the_whole_filtered_selection(make_datasette, sellers_db):
    ds = await make_datasette(sellers_db, root=True, settings={"default_facet_size": 3})
    query = (
        "org_id=org-a&times_seen__gte=200&_size=2"
        "&_facet=platform&_facet=flagged&_facet_date=created_at"
    )
    body = (await ds.client.get(f"/-/sellers.json?{query}", actor=ROOT)).json()
    rows = _oracle(sellers_db, "org-a", [("times_seen__gte", "200")])
    assert len(body["rows"]) == 2  # facets never change the rows
    results = body["facet_results"]["results"]
    assert body["facet_results"]["timed_out"] == []
    assert list(results) == ["platform", "flagged", "created_at"]

    def expected(values):
        counts = collections.Counter(v for v in values if v is not None)
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return ordered[:3], len(ordered) > 3

    for key, values in (
        ("platform", [r["platform"] for r in rows]),
        ("flagged", [bool(r["flagged"]) for r in rows]),
        ("created_at", [r["created_at"] and r["created_at"][:10] for r in rows]),
    ):
        wanted, truncated = expected(values)
        facet = results[key]
        assert [(v["value"], v["count"]) for v in facet["results"]] == wanted, key
        assert facet["truncated"] is truncated
        assert facet["type"] == ("date" if key == "created_at" else "column")
        assert not any(v["selected"] for v in facet["results"])
    # A value's toggle adds its filter; followed, that value is selected and toggles it off.
    ebay = next(v for v in results["platform"]["results"] if v["value"] == "ebay")
    toggle = urllib.parse.urlsplit(ebay["toggle_url"])
    toggled = (await ds.client.get(f"{toggle.path}?{toggle.query}", actor=ROOT)).json()
    selected = toggled["facet_results"]["results"]["platform"]["results"]
    assert [(v["value"], v["selected"]) for v in selected] == [("ebay", True)]
    assert (
        "platform=ebay" in ebay["toggle_url"] and "platform=ebay" not in selected[0]["toggle_url"]
    )
    flag = results["flagged"]["results"][0]
    assert f"flagged={'true' if flag['value'] else 'false'}" in flag["toggle_url"]
    day = results["created_at"]["results"][0]
    assert f"created_at__date={day['value']}" in day["toggle_url"]
    assert "_facet=platform" in body["next_url"]


@pytest.mark.asyncio
async def test_facet_size_and_errors(ds):
    body = (
        await ds.client.get(
            "/-/sellers.json?org_id=org-a&_facet=platform_id&_facet_size=1", actor=ROOT
        )
    ).json()
    assert len(body["facet_results"]["results"]["platform_id"]["results"]) == 1
    assert body["facet_results"]["results"]["platform_id"]["truncated"] is True
    for query, fragment in (
        ("_facet=id", "Cannot facet by 'id'"),
        ("_facet=deleted_at", "Cannot facet by 'deleted_at'"),
        ("_facet_date=platform", "only created_at has dates"),
        ("_facet=platform&_facet=platform", "more than once"),
        ("_facet_size=lots", "_facet_size='lots' is not understood"),
    ):
        response = await ds.client.get(f"/-/sellers.json?org_id=org-a&{query}", actor=ROOT)
        assert response.status_code == 400 and fragment in response.json()["error"], query
    export = await ds.client.get("/export/sellers/csv?org_id=org-a&_facet=platform", actor=ROOT)
    assert export.status_code == 400  # exports have no facets


@pytest.mark.asyncio
async def test_a_facet_past_its_time_limit_is_reported_not_an_error(make_datasette, sellers_db):
    # 100,000 more rows for org-a: a facet over them takes far longer than a millisecond.
    conn = sqlite3.connect(sellers_db)
    with conn:
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)"
            " INSERT INTO sellers (id, org_id, display_name, platform, times_seen, flagged,"
            " created_at) SELECT 'big-' || i, 'org-a', 'n' || i, 'p' || (i % 97), i % 7, 0,"
            " '2025-01-01T00:00:00.000000Z' FROM n"
        )
    conn.close()
    ds = await make_datasette(sellers_db, root=True, settings={"facet_time_limit_ms": 1})
    query = "/-/sellers.json?org_id=org-a&_size=3&_facet=platform&_facet=display_name"
    response = await ds.client.get(query, actor=ROOT)
    assert response.status_code == 200
    body = response.json()
    assert len(body["rows"]) == 3
    assert body["facet_results"] == {"results": {}, "timed_out": ["platform", "display_name"]}


@pytest.mark.asyncio
async def test_download_names_tell_filtered_selections_apart(ds):
    names = set()
    for query in (
        "",
        "platform=ebay",
        "platform=etsy",
        "platform__exact=ebay&_col=platform",
        "_col=platform",
        "_nocol=platform",
    ):
        response = await ds.client.get(f"/export/sellers/csv?org_id=org-a&{query}", actor=ROOT)
        disposition = response.headers["content-disposition"]
        names.add(disposition)
        if query:
            assert "-where-" in disposition or "-columns-" in disposition
    assert len(names) == 6


def test_the_command_line_takes_the_same_filters_and_columns(sellers_db, tmp_path):
    out = tmp_path / "f.csv"
    result = run_cli(
        "export",
        sellers_db,
        "--org",
        "org-a",
        "--filter",
        "platform__in=ebay,etsy",
        "--filter",
        "times_seen__lt=500",
        "--col",
        "times_seen",
        "--col",
        "platform",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    wanted = chosen(
        _oracle(sellers_db, "org-a", [("platform__in", "ebay,etsy"), ("times_seen__lt", "500")]),
        ("platform", "times_seen"),
    )
    with open(out, newline="") as written:
        text = written.read()
    assert text == encode_csv(wanted, columns=("platform", "times_seen"))
    bad = run_cli("export", sellers_db, "--org", "org-a", "--filter", "id=1")
    assert bad.exit_code == 2 and "Cannot filter by 'id'" in bad.output
    shapeless = run_cli("export", sellers_db, "--org", "org-a", "--filter", "platform")
    assert shapeless.exit_code == 2 and "COL=VALUE" in shapeless.output


@pytest.mark.asyncio
async def test_the_browse_page_spells_its_form_as_the_api_does(ds):
    form = (
        "/-/sellers?org_id=org-a&_filter_column_1=platform&_filter_op_1=exact&_filter_value_1=ebay"
        "&_filter_column=times_seen&_filter_op=gte&_filter_value=100"
        "&_col=display_name&_col=times_seen&_facet=platform&_facet="
    )
    response = await ds.client.get(form, actor=ROOT)
    assert response.status_code == 302
    location = response.headers["location"]
    assert urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query) == [
        ("org_id", "org-a"),
        ("_col", "display_name"),
        ("_col", "times_seen"),
        ("_facet", "platform"),
        ("platform__exact", "ebay"),
        ("times_seen__gte", "100"),
    ]
    page = await ds.client.get(location, actor=ROOT)
    assert page.status_code == 200
    html = page.text
    assert '<th class="col-display_name"' in html and '<th class="col-platform"' not in html
    assert "facet-platform" in html and 'name="_filter_column_2"' in html
    assert "platform__exact=ebay" in html.split('class="seller-export-downloads"')[1]
    every = await ds.client.get(
        "/-/sellers?org_id=org-a&" + "&".join(f"_col={c}" for c in EXPORTED), actor=ROOT
    )
    assert every.status_code == 302 and "_col" not in every.headers["location"]


@pytest.mark.parametrize(
    "parameter,text,operator,value",
    [
        ("platform", "ebay", "exact", "ebay"),
        ("times_seen__gte", "100", "gte", 100),
        ("feedback_percent__lt", "97.5", "lt", 97.5),
        ("platform__in", "a,b", "in", ("a", "b")),
        ("times_seen__notin", "[1,2]", "notin", (1, 2)),
        ("created_at__date", "2025-01-09", "date", "2025-01-09"),
        ("platform__isnull", "1", "isnull", None),
    ],
)
def test_parse_filter(parameter, text, operator, value):
    flt = parse_filter(parameter, text)
    assert (flt.operator, flt.value) == (operator, value)


def test_parse_criteria_keeps_columns_in_the_allowlists_order():
    criteria = parse_criteria([("_col", "created_at"), ("_col", "display_name")])
    assert criteria.columns == ("display_name", "created_at")
    with pytest.raises(ParameterError):
        parse_criteria([("_col", "org_id")])


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "parameter,text,drives",
    [
        ("times_seen__gte", "995", True),  # keeps few rows: its own index reads them
        ("times_seen__gte", "2", False),  # keeps most: the sort's index is walked
        ("platform", "ebay", False),
        ("platform_id__startswith", "0", False),  # no index can serve it
    ],
)
async def test_the_plan_reads_few_rows_through_their_filters_index(
    sellers_db, parameter, text, drives
):
    selection = Selection("sellers", "org-a", filters=(parse_filter(parameter, text),))
    async with threaded_execute(sellers_db, 1, register_functions) as execute:
        planned = await with_filter_plan(execute, selection, most=20)
        assert (planned.driving_filter == 0) is drives
        assert await plan_selection(execute, selection, 20) == planned
    conn = sqlite3.connect(sellers_db)
    register_functions(conn)
    sql, params = batch_query(planned, "NULL", 10)
    plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    conn.close()
    index = "idx_sellers_org_id_times_seen_id" if drives else "idx_sellers_org_id_created_at_id"
    assert index in plan, plan


def _selection(*filters):
    return Selection("sellers", "org-a", filters=tuple(parse_filter(*f) for f in filters))


@pytest.mark.parametrize(
    "sql_and_params,columns_read",
    [
        (facet_query(_selection(), "platform", 10), set()),
        (facet_query(_selection(), "created_at", 10, by_day=True), set()),
        (filter_count_query(_selection(("times_seen__gte", "9")), 0, 20), set()),
        # Within a filter on another column, the rows the filter keeps give the value.
        (facet_query(_selection(("platform", "ebay")), "times_seen", 10), {"times_seen"}),
        (
            facet_query(_selection(("platform_id__startswith", "1")), "platform", 10),
            {"platform_id"},
        ),
    ],
    ids=["platform-facet", "date-facet", "filter-count", "within-a-filter", "unindexed-filter"],
)
def test_facets_and_plan_counts_read_an_index_alone(sellers_db, sql_and_params, columns_read):
    # The sort indexes hold live rows only, so no row is read to check `deleted_at`: what
    # keeps a facet on the whole organisation fast (docs/benchmarks.md#filters-and-facets).
    conn = sqlite3.connect(sellers_db)
    register_functions(conn)
    names = [row[1] for row in conn.execute("PRAGMA table_info(sellers)")]
    reads = {names[number] for number in table_row_reads(conn, *sql_and_params)}
    conn.close()
    assert reads == columns_read


@pytest.mark.asyncio
async def test_head_checks_filters_as_get_does(ds):
    for path in ("/export/sellers/csv", "/-/sellers.json", "/-/sellers"):
        good = await ds.client.request(
            "HEAD", f"{path}?org_id=org-a&platform=ebay&_col=platform", actor=ROOT
        )
        assert good.status_code == 200 and good.content == b""
        bad = await ds.client.request("HEAD", f"{path}?org_id=org-a&id=1", actor=ROOT)
        assert bad.status_code == 400
    response = await ds.client.request(
        "HEAD", "/export/sellers/csv?org_id=org-a&platform=ebay", actor=ROOT
    )
    assert "-where-platform-ebay-" in response.headers["content-disposition"]


def _recording(statements):
    """An execute wrapper (config.execute_wrappers) that notes every statement run."""

    def wrap(execute):
        async def recorded(sql, params, **options):
            statements.append(sql)
            return await execute(sql, params, **options)

        return recorded

    return wrap


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "org,pairs,scans",
    [
        # Keeps none of org-a (250 of the table's ~300 rows): the walk reads all of them.
        ("org-a", [("display_name__contains", "no such name")], True),
        ("org-a", [("platform_id__startswith", "0"), ("flagged", "true")], True),
        ("org-a", [("display_name__contains", "e")], True),
        # org-one is a sliver of the table: walking it costs less than any scan.
        ("org-one", [("display_name__contains", "no such name")], False),
        # An index reads the rows the indexed filter keeps: no walk past rows to beat.
        ("org-a", [("display_name__contains", "e"), ("times_seen__lt", "900")], False),
        ("org-a", [("times_seen__gte", "200")], False),
    ],
)
async def test_a_scan_reads_what_the_walk_would(make_datasette, sellers_db, org, pairs, scans):
    """Pages, counts, facets and exports read by a scan of the table give what the walk of
    the organisation's index gives (Limits.scan_rows=0 never scans)."""
    query = urllib.parse.urlencode([("org_id", org), *pairs])
    seen = {}
    for scan_rows in (0, Limits().scan_rows):
        ds = await make_datasette(sellers_db, root=True)
        statements = []
        replace_config(
            ds, limits=Limits(scan_rows=scan_rows), execute_wrappers=(_recording(statements),)
        )
        rows, pages = await page_through(ds, query + "&_size=7")
        last = urllib.parse.urlsplit(str(pages[-1].request.url))
        back, _ = await page_through(ds, query, rel="prev", path=last.path + "?" + last.query)
        page = await ds.client.get(f"/-/sellers?{query}&_facet=flagged", actor=ROOT)
        facets = await ds.client.get(f"/-/sellers.json?{query}&_facet=platform_id", actor=ROOT)
        export = await ds.client.get(f"/export/sellers/csv?{query}", actor=ROOT)
        assert page.status_code == export.status_code == facets.status_code == 200
        total = re.search(r'<h3 class="table-summary">([^<]*)</h3>', page.text).group(1)
        facet_results = facets.json()["facet_results"]
        seen[scan_rows] = (rows, back, total, facet_results, export.text)
        scanned = any(" NOT INDEXED " in sql for sql in statements)
        assert scanned is (scans and scan_rows > 0), statements
    assert seen[0] == seen[Limits().scan_rows]
    wanted = [
        r
        for r in _oracle(sellers_db, org, [p for p in pairs if p[0] != "flagged"])
        if dict(pairs).get("flagged") != "true" or r["flagged"] == 1
    ]
    assert seen[0][0] == json.loads(encode_json(wanted))
    assert seen[0][4] == encode_csv(wanted)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "org,scan_rows,scans",
    [
        ("org-a", 1_000, True),  # 250 live rows of the table's ~300: a scan costs less
        ("org-a", 100, False),  # the table is bigger than a scan may read
        ("org-a", 0, False),  # never
        ("org-b", 1_000, True),  # 40: more than a tenth
        ("org-one", 1_000, False),  # 1: its walk costs less than the table's scan
        ("no-such-org", 1_000, False),
    ],
)
async def test_a_scan_pays_for_an_organisation_with_a_tenth_of_the_table(
    sellers_db, org, scan_rows, scans
):
    selection = Selection("sellers", org, filters=(parse_filter("platform_id__startswith", "0"),))
    async with threaded_execute(sellers_db, 1, register_functions) as execute:
        table_rows = (await execute("SELECT max(rowid) FROM sellers", {}))[0][0]
        assert bool(await rows_to_scan(execute, selection, scan_rows)) is scans
        planned = await plan_selection(execute, selection, 10_000, scan_rows)
        assert planned.scan is scans
        if scans:
            assert await rows_to_scan(execute, selection, scan_rows) == table_rows
            # One that would list more rows than an export may hold walks instead.
            assert not (await plan_selection(execute, selection, 2, scan_rows)).scan


@pytest.mark.asyncio
@pytest.mark.parametrize("canonical", [True, False])
@pytest.mark.parametrize("size", [2, 50])
async def test_a_day_facet_counts_days_on_the_index_of_a_canonical_mirror(
    make_datasette, tmp_path, canonical, size
):
    # demo writes canonical timestamps, and its state says so; without that word, the facet
    # counts date() of every row instead. Both must give Python's own counts.
    path = str(tmp_path / "demo.db")
    run_cli("demo", path, "--rows", 3000, "--orgs", 3, "--seed", 5)
    conn = sqlite3.connect(path)
    if not canonical:
        conn.execute("UPDATE seller_export_state SET timestamps = NULL")
        conn.commit()
    live = conn.execute(
        "SELECT substr(created_at, 1, 10) FROM sellers WHERE org_id = 'org-2'"
        " AND deleted_at IS NULL AND created_at IS NOT NULL"
    ).fetchall()
    conn.close()
    counts = collections.Counter(day for (day,) in live)
    wanted = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ds = await make_datasette(path, root=True)
    statements = []
    replace_config(ds, execute_wrappers=(_recording(statements),))
    query = f"org_id=org-2&_facet_date=created_at&_facet_size={size}"
    body = (await ds.client.get(f"/-/sellers.json?{query}", actor=ROOT)).json()
    facet = body["facet_results"]["results"]["created_at"]
    assert [(v["value"], v["count"]) for v in facet["results"]] == wanted[:size]
    assert facet["truncated"] is (len(wanted) > size)
    assert any("WITH RECURSIVE facet_values" in sql for sql in statements) is canonical
    # Narrowed by anything, it counts the rows it keeps as any facet does.
    statements.clear()
    narrowed = await ds.client.get(f"/-/sellers.json?{query}&flagged=true", actor=ROOT)
    assert narrowed.status_code == 200
    assert not any("WITH RECURSIVE facet_values" in sql for sql in statements)


@pytest.mark.asyncio
@pytest.mark.parametrize("column", EXPORTED)
async def test_a_facet_of_the_organisation_alone_counts_what_python_counts(
    make_datasette, tmp_path_factory, column
):
    # A facet on an indexed column with few values counts their ranges on its index; one
    # with many (feedback_count, the names) or with no index groups the rows: both as Python.
    path = tmp_path_factory.getbasetemp() / "facets-demo.db"
    if not path.exists():
        run_cli("demo", path, "--rows", 4000, "--orgs", 2, "--seed", 3)
    conn = sqlite3.connect(path)
    values = [
        v
        for (v,) in conn.execute(
            f"SELECT {column} FROM sellers WHERE org_id = 'org-1' AND deleted_at IS NULL"
        )
        if v is not None
    ]
    conn.close()
    counts = collections.Counter(bool(v) if column == "flagged" else v for v in values)
    wanted = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:30]
    ds = await make_datasette(str(path), root=True)
    statements = []
    replace_config(ds, execute_wrappers=(_recording(statements),))
    query = f"org_id=org-1&_facet={column}&_facet_size=30"
    body = (await ds.client.get(f"/-/sellers.json?{query}", actor=ROOT)).json()
    facet = body["facet_results"]["results"][column]
    assert [(v["value"], v["count"]) for v in facet["results"]] == wanted
    ranged = any("SELECT v AS value" in sql for sql in statements)
    assert ranged is (column in SORTABLE_COLUMNS and len(counts) <= RANGE_FACET_VALUES)
