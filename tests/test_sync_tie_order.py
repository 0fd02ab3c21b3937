"""Ties sort as production sorts them: among rows with the same created_at (or the same value
of a sort column), by id as PostgreSQL compares it, for bigint, uuid and text ids. Against the
real PostgreSQL cluster of the sync tests; the ids are chosen so that text order and number
order disagree ('8' after '11' as text)."""

import json
import random
import sqlite3
import uuid

import pytest
from support.clients import page_through, run_cli
from support.postgres import load_production
from support.sellers import ROOT
from test_sync import pg

from datasette_seller_export.mirror.records import COLUMNS

pytestmark = pytest.mark.served

ORG = "org-ties"
CREATED_AT = ["2025-03-01 10:00:00+00", "2025-02-01 09:00:00+00", None]
# Each sort as PostgreSQL writes it, and as `export` is asked for it.
ORDERS = [
    ("created_at DESC NULLS LAST, id DESC", []),
    ("times_seen ASC NULLS LAST, id ASC", ["--sort", "times_seen"]),
    ("times_seen DESC NULLS LAST, id DESC", ["--sort-desc", "times_seen"]),
    ("platform DESC NULLS LAST, id DESC", ["--sort-desc", "platform"]),
]


def make_ids(id_type, count, rng):
    if id_type == "bigint":
        # Numbers of every width, negative ones, and the big ones of a real sequence.
        ids = {"8", "11", "1021", "10198", "10244", "-3", str(2**62)}
        while len(ids) < count:
            ids.add(str(rng.randrange(-(10**3), 10 ** rng.randrange(1, 16))))
    elif id_type == "uuid":
        ids = {str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(count)}
    else:
        alphabet = ["a", "B", "z", "0", "9", "é", "Z", "-", "_", "東"]
        ids = {"8", "11", "1021", "abc", "ABC", "abc-1"}
        while len(ids) < count:
            ids.add("".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 6))))
    return sorted(ids)


def tie_records(id_type, count=400, seed=3):
    rng = random.Random(seed)
    records = []
    for id_ in make_ids(id_type, count, rng):
        row = dict.fromkeys(COLUMNS)
        row.update(
            id=id_,
            org_id=ORG,
            display_name=f"seller {id_}",
            platform=rng.choice(["ebay", "etsy", None]),
            times_seen=rng.choice([1, 2, 3]),
            flagged=rng.random() < 0.3,
            created_at=rng.choice(CREATED_AT),
            updated_at="2025-03-02 00:00:00+00",
        )
        records.append([row[column] for column in COLUMNS])
    rng.shuffle(records)
    return records


def production_order(url, order):
    sql = f"SELECT display_name FROM sellers WHERE org_id = %s ORDER BY {order}"
    return [name for (name,) in pg(url, sql, (ORG,))]


def exported_order(mirror, args):
    result = run_cli("export", mirror, "--org", ORG, "--format", "json", "--batch-size", 7, *args)
    assert result.exit_code == 0, result.output
    return [row["display_name"] for row in json.loads(result.stdout)]


@pytest.mark.parametrize("id_type", ["bigint", "uuid", "text"])
def test_an_export_lists_ties_in_productions_order(postgres, tmp_path, id_type):  # noqa: F811
    load_production(postgres.url, tie_records(id_type), COLUMNS, id_type=id_type)
    mirror = str(tmp_path / "mirror.db")
    assert run_cli("sync", mirror, "--from", postgres.url).exit_code == 0
    for order, args in ORDERS:
        assert exported_order(mirror, args) == production_order(postgres.url, order), order


def test_a_text_id_mirror_of_bigint_ids_is_rebuilt_once(postgres, tmp_path):  # noqa: F811
    load_production(postgres.url, tie_records("bigint"), COLUMNS, id_type="bigint")
    mirror = str(tmp_path / "mirror.db")
    assert run_cli("init", mirror).exit_code == 0  # text ids, as every mirror had before
    sellers = sqlite3.connect(mirror)
    sellers.executemany(  # rows written by an older version: ids as text
        "INSERT INTO sellers (id, org_id, display_name) VALUES (?, ?, ?)",
        [("8", ORG, "seller 8"), ("11", ORG, "seller 11")],
    )
    sellers.commit()
    first = run_cli("sync", mirror, "--from", postgres.url)
    assert first.exit_code == 0, first.output
    assert "ids now stored as BIGINT values, so ties sort as production's" in first.output
    assert sellers.execute("SELECT DISTINCT typeof(id) FROM sellers").fetchall() == [("integer",)]
    # The search index follows the rows it indexed (the rebuild kept their rowids).
    (found,) = sellers.execute(
        "SELECT display_name FROM sellers WHERE rowid IN "
        "(SELECT rowid FROM sellers_fts WHERE sellers_fts MATCH '\"seller 10198\"')"
    ).fetchall()
    assert found == ("seller 10198",)
    second = run_cli("sync", mirror, "--from", postgres.url)
    assert "ids now stored" not in second.output
    for order, args in ORDERS:
        assert exported_order(mirror, args) == production_order(postgres.url, order), order


@pytest.mark.asyncio
async def test_pages_of_integer_ids_follow_productions_order(
    postgres,  # noqa: F811
    tmp_path,
    make_datasette,
):
    load_production(postgres.url, tie_records("bigint"), COLUMNS, id_type="bigint")
    mirror = str(tmp_path / "mirror.db")
    assert run_cli("sync", mirror, "--from", postgres.url).exit_code == 0
    ds = await make_datasette(mirror, root=True)
    for query, order in [
        ("", "created_at DESC NULLS LAST, id DESC"),
        ("&_sort=times_seen", "times_seen ASC NULLS LAST, id ASC"),
    ]:
        rows, pages = await page_through(ds, f"org_id={ORG}&_size=9{query}", actor=ROOT)
        assert len(pages) > 10
        assert [row["display_name"] for row in rows] == production_order(postgres.url, order)
