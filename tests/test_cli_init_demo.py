"""`datasette seller-export init` and `demo`, run as Datasette's command line runs them."""

import sqlite3
from contextlib import closing

import pytest
import sqlite_utils
from click.testing import CliRunner
from datasette.cli import cli
from support.clients import run_cli
from support.oracle import INTERNAL

from datasette_seller_export.engine.schema import (
    EXPORTED_COLUMNS,
    LIVE_ROWS,
    SORTABLE_COLUMNS,
    STRICT_SUPPORTED,
    create_table_sql,
    ensure_table,
    is_strict,
    sort_index_name,
)


def test_init_creates_table_and_index_and_is_idempotent(tmp_path):
    path = str(tmp_path / "m.db")
    first = run_cli("init", path)
    assert first.exit_code == 0
    assert "created table sellers" in first.output and "created index" in first.output
    db = sqlite_utils.Database(path)
    assert set(db["sellers"].columns_dict) == set(EXPORTED_COLUMNS + INTERNAL)
    assert db["sellers"].pks == ["id"]
    assert ["org_id", "created_at", "id"] in [i.columns for i in db["sellers"].indexes]
    again = run_cli("init", path)
    assert again.exit_code == 0 and "already in place" in again.output


def test_init_adds_what_an_existing_mirror_lacks(tmp_path):
    path = str(tmp_path / "m.db")
    sqlite_utils.Database(path)["sellers"].insert(
        {"id": "x", "org_id": "o", "display_name": "kept"}, pk="id"
    )
    result = run_cli("init", path)
    assert "added column sellers.flagged" in result.output and "created index" in result.output
    db = sqlite_utils.Database(path)
    assert list(db["sellers"].rows)[0]["display_name"] == "kept"


def test_init_rebuilds_sort_indexes_made_before_they_held_live_rows_only(tmp_path):
    path = str(tmp_path / "m.db")
    run_cli("init", path)
    db = sqlite_utils.Database(path)
    db["sellers"].insert_all(
        [
            {"id": f"s{n}", "org_id": "o", "deleted_at": "2025-01-02" if n % 3 else None}
            for n in range(30)
        ]
    )
    # The indexes as earlier releases made them: every row in them.
    for column in SORTABLE_COLUMNS:
        db.execute(f"DROP INDEX {sort_index_name('sellers', column)}")
        db["sellers"].create_index(["org_id", column, "id"], sort_index_name("sellers", column))
    result = run_cli("init", path)
    assert result.exit_code == 0
    assert result.output.count("made by an earlier release") == len(SORTABLE_COLUMNS), result.output
    for column in SORTABLE_COLUMNS:
        name = sort_index_name("sellers", column)
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", [name]).fetchone()[0]
        assert sql.endswith("WHERE deleted_at IS NULL"), sql
        # An index holds as many entries as the organisation has live rows.
        count = f"SELECT count(*) FROM sellers INDEXED BY {name} WHERE org_id = 'o' AND {LIVE_ROWS}"
        assert db.execute(count).fetchone()[0] == 10
    assert db["sellers"].count == 30
    assert "already in place" in run_cli("init", path).output


def test_demo_data_is_deterministic_and_has_the_hard_cases(tmp_path):
    one, two = str(tmp_path / "one.db"), str(tmp_path / "two.db")
    result = run_cli("demo", one, "--rows", "3000", "--orgs", "4", "--seed", "7")
    assert result.exit_code == 0 and "3,000 demo sellers in 4 organisations" in result.output
    run_cli("demo", two, "--rows", "3000", "--orgs", "4", "--seed", "7")

    def dump(path):
        with closing(sqlite3.connect(path)) as conn:
            return conn.execute("SELECT * FROM sellers ORDER BY id").fetchall()

    assert dump(one) == dump(two)
    run_cli(
        "demo", one, "--rows", "3000", "--orgs", "4", "--seed", "7"
    )  # again: replaces, adds nothing
    conn = sqlite3.connect(one)
    q = lambda sql, *params: conn.execute(sql, params).fetchone()[0]  # noqa: E731
    assert q("SELECT count(*) FROM sellers") == 3000
    assert q("SELECT count(DISTINCT org_id) FROM sellers") == 4
    assert q("SELECT count(*) FROM sellers WHERE deleted_at IS NOT NULL") > 50
    assert q("SELECT count(*) FROM sellers WHERE created_at IS NULL") > 5
    assert q("SELECT max(n) FROM (SELECT count(*) n FROM sellers GROUP BY org_id, created_at)") > 1
    for needle in (",", '"', "\n", "=", "ü"):
        assert q("SELECT count(*) FROM sellers WHERE instr(display_name, ?)", needle) > 0, needle
    assert q("SELECT count(*) FROM sellers WHERE feedback_percent IS NULL") > 0
    different = str(tmp_path / "three.db")
    run_cli("demo", different, "--rows", "3000", "--orgs", "4", "--seed", "8")
    assert dump(one) != dump(different)
    conn.close()


@pytest.mark.parametrize(
    "args,message", [(["--rows", "-1"], "--rows"), (["--orgs", "0"], "--orgs")]
)
def test_demo_refuses_bad_arguments(tmp_path, args, message):
    result = CliRunner().invoke(cli, ["seller-export", "demo", str(tmp_path / "x.db"), *args])
    assert result.exit_code == 2 and message in result.output


def test_demo_refuses_a_mirror_of_real_sellers(sellers_db, tmp_path):
    before = sqlite3.connect(sellers_db).execute("SELECT count(*) FROM sellers").fetchone()
    result = run_cli("demo", sellers_db, "--rows", 10)
    assert result.exit_code == 1
    assert "demo would add fake ones among them" in result.output
    assert "datasette seller-export demo demo.db" in result.output
    after = sqlite3.connect(sellers_db).execute("SELECT count(*) FROM sellers").fetchone()
    assert after == before


def test_demo_writes_again_into_its_own_file_but_not_after_an_import(tmp_path):
    demo_db = str(tmp_path / "demo.db")
    assert run_cli("demo", demo_db, "--rows", 50, "--seed", 1).exit_code == 0
    assert run_cli("demo", demo_db, "--rows", 80, "--seed", 2).exit_code == 0
    dump = tmp_path / "dump.ndjson"
    dump.write_text(
        '{"id": "real-1", "org_id": "acme", "display_name": "A real seller", "normalized_name":'
        ' null, "platform": null, "platform_id": null, "times_seen": 1, "feedback_percent":'
        ' null, "feedback_count": null, "flagged": false, "first_seen_run_id": null,'
        ' "last_seen_run_id": null, "created_at": null, "updated_at": null, "deleted_at": null}\n'
    )
    assert run_cli("import", demo_db, dump).exit_code == 0
    result = run_cli("demo", demo_db, "--rows", 10)
    assert result.exit_code == 1 and "written by import of dump.ndjson" in result.output


STRICT_ONLY = pytest.mark.skipif(not STRICT_SUPPORTED, reason="STRICT tables need SQLite 3.37")


def _loose_mirror(path, rows):
    """A mirror as an earlier release (or another writer) made it: not STRICT."""
    db = sqlite_utils.Database(path)
    ensure_table(db, strict=False)
    db["sellers"].insert_all(rows)
    return db


@STRICT_ONLY
def test_init_rebuilds_a_mirror_as_strict_keeping_rows_indexes_and_search(tmp_path):
    path = str(tmp_path / "m.db")
    rows = [
        {"id": f"s{n}", "org_id": "o", "display_name": f"Seller {n}", "feedback_percent": 98}
        for n in range(50)
    ]
    db = _loose_mirror(path, rows)
    db["sellers"].delete("s7")  # a rowid gap the copy must keep
    before = db.execute("SELECT rowid, * FROM sellers ORDER BY rowid").fetchall()
    attached = db.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'sellers'").fetchall()
    db.close()
    result = run_cli("init", path)
    assert result.exit_code == 0
    assert "rebuilt table sellers as STRICT" in result.output, result.output
    db = sqlite_utils.Database(path)
    assert is_strict(db.conn, "sellers")
    assert db.execute("SELECT rowid, * FROM sellers ORDER BY rowid").fetchall() == before
    assert db.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'sellers'").fetchall() == (
        attached
    )
    # The search index's triggers still follow the rows, by their kept rowids.
    db["sellers"].insert({"id": "new", "org_id": "o", "display_name": "Brand new"})
    found = "SELECT rowid FROM sellers_fts WHERE sellers_fts MATCH ?"
    rowid = "SELECT rowid FROM sellers WHERE id = ?"
    assert db.execute(found, ['"rand new"']).fetchall() == db.execute(rowid, ["new"]).fetchall()
    assert db.execute(found, ['"Seller 49"']).fetchall() == db.execute(rowid, ["s49"]).fetchall()
    assert "already in place" in run_cli("init", path).output


@STRICT_ONLY
def test_init_leaves_a_mirror_whose_values_do_not_fit_as_it_is_and_says_why(tmp_path):
    path = str(tmp_path / "m.db")
    db = _loose_mirror(path, [{"id": "a", "org_id": "o", "times_seen": 3}])
    db.execute("INSERT INTO sellers (id, org_id, times_seen) VALUES ('b', 'o', 'many')")
    db.conn.commit()
    db.close()
    result = run_cli("init", path)
    assert result.exit_code == 0
    assert "left table sellers as it is, not STRICT" in result.output
    assert "sellers.times_seen" in result.output
    db = sqlite_utils.Database(path)
    assert not is_strict(db.conn, "sellers")
    assert db.execute("SELECT id, times_seen FROM sellers ORDER BY id").fetchall() == [
        ("a", 3),
        ("b", "many"),
    ]
    assert "sellers_rebuilt" not in db.table_names()


def test_a_new_mirror_is_strict_where_sqlite_allows_it(tmp_path):
    path = str(tmp_path / "m.db")
    run_cli("init", path)
    with closing(sqlite3.connect(path)) as conn:
        assert is_strict(conn, "sellers") == STRICT_SUPPORTED


@STRICT_ONLY
def test_init_gives_a_strict_mirror_without_the_nul_checks_its_checks(tmp_path):
    path = str(tmp_path / "m.db")
    db = sqlite_utils.Database(path)
    db.execute(create_table_sql("sellers", strict=False) + " STRICT")
    db.close()
    assert "rebuilt table sellers as STRICT" in run_cli("init", path).output
    with closing(sqlite3.connect(path)) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="holds no NUL character"):
            conn.execute("INSERT INTO sellers (id, org_id, platform) VALUES ('a', 'o', char(0))")
    assert "already in place" in run_cli("init", path).output


@STRICT_ONLY
def test_init_leaves_a_mirror_with_a_nul_in_a_name_as_it_is(tmp_path):
    path = str(tmp_path / "m.db")
    db = _loose_mirror(path, [{"id": "a", "org_id": "o", "display_name": "nul\x00inside"}])
    db.close()
    result = run_cli("init", path)
    assert "left table sellers as it is, not STRICT" in result.output
    assert "display_name holds no NUL character" in result.output
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("SELECT display_name FROM sellers").fetchone() == ("nul\x00inside",)
