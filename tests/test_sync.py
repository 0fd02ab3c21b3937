"""`datasette seller-export sync` against a real PostgreSQL server (a throwaway cluster for the
session): every exported row of every organisation equals the same rows read from PostgreSQL
directly, in production's order; incremental runs, hard deletes, late commits, failures that
change nothing, and readers that keep reading during a sync."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request

import psycopg
import pytest
from click.testing import CliRunner
from datasette.cli import cli
from support.clients import run_cli, run_datasette_with
from support.postgres import load_production
from support.sellers import ROOT, seller
from support.server import actor_cookie

from datasette_seller_export.engine.schema import EXPORTED_COLUMNS, STATE_TABLE
from datasette_seller_export.mirror.records import COLUMNS
from datasette_seller_export.mirror.timestamps import format_utc

pytestmark = pytest.mark.served

ORGS = {"org-a": 120, "org-b": 30, "org-one": 1, 'org/with "odd" id\r\n': 3}
# created_at as a session in Europe/Berlin writes them: across the change to summer time on
# 31 March 2024 (02:30 does not exist that night and 02:30 on 27 October happens twice),
# fractions PostgreSQL trims (.12, .123), microseconds, ties, and NULL.
CREATED_AT = [
    "2024-03-31 03:10:00+02",
    "2024-03-31 01:30:00+01",
    "2024-03-31 00:45:00+00",
    "2024-03-31 02:30:00",
    "2024-10-27 02:30:00",
    "2024-10-27 02:30:00+01",
    "2024-03-31 00:45:00.12Z",
    "2024-03-31 00:45:00.123Z",
    "2024-03-31 00:45:00.123456Z",
    "2024-03-31 00:45:00.999999Z",
    "2024-03-31 00:45:00.12Z",
    None,
]


def production_records(seed=0, orgs=ORGS):
    import random

    rng = random.Random(seed)
    records = []
    for org_id, size in orgs.items():
        for number in range(size + 2):
            row = seller(rng, org_id, number, deleted=number >= size)
            row["created_at"] = rng.choice(CREATED_AT)
            # Text PostgreSQL cannot hold (NUL) would fail the load, not the sync.
            records.append([row[column] for column in COLUMNS])
    rng.shuffle(records)
    return records


@pytest.fixture
def production(postgres):
    """A fresh production table of awkward sellers; returns the cluster's URL."""
    load_production(postgres.url, production_records(), COLUMNS, time_zone="Europe/Berlin")
    return postgres.url


def pg(url, sql, params=None):
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def pg_export(url, org_id):
    """What an export of `org_id` must hold, read from PostgreSQL directly, in its order."""
    rows = pg(
        url,
        f"SELECT {', '.join(EXPORTED_COLUMNS)} FROM sellers "
        "WHERE org_id = %s AND deleted_at IS NULL ORDER BY created_at DESC NULLS LAST, id DESC",
        (org_id,),
    )
    return [
        {
            **dict(zip(EXPORTED_COLUMNS, row, strict=True)),
            "created_at": None if row[-1] is None else format_utc(row[-1]),
        }
        for row in rows
    ]


def mirror_export(mirror, org_id):
    result = run_cli("export", mirror, "--org", org_id, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def assert_mirror_equals_production(mirror, url):
    orgs = [org for (org,) in pg(url, "SELECT DISTINCT org_id FROM sellers")]
    assert len(orgs) >= 1
    for org_id in orgs:
        assert mirror_export(mirror, org_id) == pg_export(url, org_id), org_id
    (count,) = pg(url, "SELECT count(*) FROM sellers")[0]
    assert sqlite3.connect(mirror).execute("SELECT count(*) FROM sellers").fetchone()[0] == count


def sync(mirror, url, *args):
    return run_cli("sync", mirror, "--from", url, *args)


def mirror_content(mirror):
    """Everything the mirror holds, rows and state, to show that a failed run changed nothing."""
    conn = sqlite3.connect(mirror)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def state(mirror):
    conn = sqlite3.connect(mirror)
    conn.row_factory = sqlite3.Row
    return dict(conn.execute(f"SELECT * FROM {STATE_TABLE}").fetchone())


def test_a_first_sync_mirrors_every_organisation_in_productions_order(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    result = sync(mirror, production)
    assert result.exit_code == 0, result.output
    total = pg(production, "SELECT count(*) FROM sellers")[0][0]
    assert f"+{total:,} ~0 -0 in " in result.output and "every row read" in result.output
    assert_mirror_equals_production(mirror, production)
    # Every timestamp in the one form, whatever the session's time zone was.
    conn = sqlite3.connect(mirror)
    for column in ("created_at", "updated_at", "deleted_at"):
        widths = conn.execute(
            f"SELECT DISTINCT length({column}) FROM sellers WHERE {column} IS NOT NULL"
        ).fetchall()
        assert widths == [(27,)], column
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    # The keyset index, the sort indexes and the search index are there.
    assert run_cli("init", mirror).output.endswith("are already in place\n")
    assert state(mirror)["high_water_mark"] == format_utc(
        pg(production, "SELECT max(updated_at) FROM sellers")[0][0]
    )
    again = sync(mirror, production)
    assert "+0 ~0 -0 in " in again.output and "changed rows read" in again.output


def test_later_runs_bring_inserts_updates_and_soft_deletes(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    sync(mirror, production)
    live = "SELECT id FROM sellers WHERE org_id = %s AND deleted_at IS NULL ORDER BY id LIMIT %s"
    renamed = [id_ for (id_,) in pg(production, live, ("org-b", 3))]
    deleted = [id_ for (id_,) in pg(production, live, ("org-a", 2))]
    pg(
        production,
        "UPDATE sellers SET display_name = 'Renamed', updated_at = now() WHERE id = ANY(%s)",
        (renamed,),
    )
    pg(
        production,
        "UPDATE sellers SET deleted_at = now(), updated_at = now() WHERE id = ANY(%s)",
        (deleted,),
    )
    pg(
        production,
        "INSERT INTO sellers (id, org_id, display_name, created_at) "
        "VALUES ('new-1', 'org-a', 'Brand new', now()), ('new-2', 'org-new', 'Another', NULL)",
    )
    result = sync(mirror, production)
    assert result.exit_code == 0, result.output
    assert "+2 ~5 -0 in " in result.output and "changed rows read" in result.output
    assert_mirror_equals_production(mirror, production)


def test_full_removes_what_production_no_longer_has(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    sync(mirror, production)
    deleted = pg(production, "DELETE FROM sellers WHERE org_id = 'org-b'")
    incremental = sync(mirror, production)
    assert "-0 in " in incremental.output  # a hard delete leaves no row to read
    result = sync(mirror, production, "--full")
    assert result.exit_code == 0, result.output
    assert f"+0 ~0 -{deleted:,} in " in result.output and "every row read" in result.output
    assert_mirror_equals_production(mirror, production)


def test_a_transaction_that_commits_late_arrives_within_the_overlap(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    sync(mirror, production)
    late = psycopg.connect(production)
    try:
        # Its updated_at is the time it began; it commits after a sync has read later rows.
        late.execute(
            "INSERT INTO sellers (id, org_id, display_name, updated_at) "
            "VALUES ('late', 'org-a', 'Committed late', now())"
        )
        time.sleep(0.05)
        pg(
            production,
            "INSERT INTO sellers (id, org_id, display_name) VALUES ('on-time', 'org-a', 'x')",
        )
        assert "+1 ~0 -0" in sync(mirror, production).output
        late.commit()
    finally:
        late.close()
    result = sync(mirror, production, "--overlap", "5m")
    assert "+1 ~0 -0" in result.output
    assert_mirror_equals_production(mirror, production)
    # Without an overlap the same late row would have been missed.
    pg(
        production,
        "UPDATE sellers SET updated_at = updated_at - interval '10 minutes', "
        "display_name = 'older than the overlap' WHERE id = 'late'",
    )
    assert "+0 ~0 -0" in sync(mirror, production).output


def test_a_bad_row_changes_nothing_and_names_its_id(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    sync(mirror, production)
    before = mirror_content(mirror)
    pg(production, "INSERT INTO sellers (id, org_id) VALUES ('good', 'org-a'), ('orphan', NULL)")
    result = sync(mirror, production)
    assert result.exit_code == 1
    assert "id 'orphan': org_id is missing: every seller needs an org_id" in result.output
    assert "the mirror is unchanged" in result.output and "Traceback" not in result.output
    assert mirror_content(mirror) == before
    pg(production, "UPDATE sellers SET org_id = 'org-a', updated_at = now() WHERE id = 'orphan'")
    assert "+2 ~0 -0" in sync(mirror, production).output


@pytest.mark.parametrize(
    "column_type,value,message",
    [
        ("text", "many", "times_seen must be a whole number, not 'many'"),
        ("numeric", "1.5", "times_seen must be a whole number, not '1.5'"),
    ],
)
def test_a_value_the_schema_does_not_take_names_its_row(
    postgres, tmp_path, column_type, value, message
):
    load_production(postgres.url, [], COLUMNS, table="loose")
    pg(postgres.url, f"ALTER TABLE loose ALTER COLUMN times_seen TYPE {column_type}")
    pg(
        postgres.url,
        "INSERT INTO loose (id, org_id, times_seen) VALUES ('fine', 'o', '3'), ('odd', 'o', %s)",
        (value,),
    )
    mirror = str(tmp_path / "mirror.db")
    result = sync(mirror, postgres.url, "--source-table", "loose")
    assert result.exit_code == 1
    assert f"id 'odd': {message}" in result.output
    assert (
        not os.path.exists(mirror)
        or not sqlite3.connect(mirror)
        .execute("SELECT name FROM sqlite_master WHERE name = 'sellers'")
        .fetchall()
    )


def test_a_timestamp_outside_what_the_mirror_takes_is_refused(postgres, tmp_path):
    load_production(postgres.url, [], COLUMNS, table="odd_times")
    pg(
        postgres.url,
        "INSERT INTO odd_times (id, org_id, created_at) VALUES ('forever', 'o', 'infinity')",
    )
    result = sync(str(tmp_path / "m.db"), postgres.url, "--source-table", "odd_times")
    assert result.exit_code == 1
    assert "id 'forever': created_at: 'infinity' is not a timestamp" in result.output


@pytest.fixture
def port_nobody_listens_on():
    from support.server import free_port

    return free_port()


def test_errors_that_say_what_to_fix(postgres, tmp_path, port_nobody_listens_on):
    mirror = str(tmp_path / "mirror.db")
    load_production(postgres.url, [], COLUMNS, table="sellers")
    cases = [
        (
            postgres.url.replace(str(postgres.port), str(port_nobody_listens_on)),
            (),
            "Connection refused",
        ),
        (postgres.url.replace("test-password", "wrong"), (), "password authentication failed"),
        ("not a url", (), "cannot connect to PostgreSQL"),
        (postgres.url, ("--source-table", "nope"), "no table 'nope' in the PostgreSQL database"),
    ]
    for url, args, message in cases:
        result = sync(mirror, url, *args)
        assert result.exit_code == 1, (url, result.output)
        assert message in result.output and "Traceback" not in result.output, result.output
        # A failed first sync leaves no empty mirror behind.
        assert "no mirror was made" in result.output and not os.path.exists(mirror)
    pg(postgres.url, "ALTER TABLE sellers DROP COLUMN platform_id")
    result = sync(mirror, postgres.url)
    assert "lacks the columns platform_id, which the mirror needs" in result.output
    pg(postgres.url, "ALTER TABLE sellers ADD COLUMN platform_id text, ADD COLUMN secret text")
    pg(postgres.url, "INSERT INTO sellers (id, org_id, secret) VALUES ('s', 'o', 'hidden')")
    result = sync(mirror, postgres.url)
    assert result.exit_code == 1
    assert "columns the mirror does not know: secret" in result.output
    assert "--ignore-unknown-columns" in result.output
    result = sync(mirror, postgres.url, "--ignore-unknown-columns")
    assert result.exit_code == 0 and "+1 ~0 -0" in result.output
    assert "hidden" not in "".join(mirror_content(mirror))


def test_database_url_from_the_environment_and_a_changed_source(production, tmp_path, monkeypatch):
    mirror = str(tmp_path / "mirror.db")
    monkeypatch.setenv("DATABASE_URL", production)
    assert run_cli("sync", mirror).exit_code == 0
    load_production(production, production_records(seed=1), COLUMNS, table="other")
    result = sync(mirror, production, "--source-table", "other")
    assert result.exit_code == 1 and "run it once with --full" in result.output


def _sellers_cli(*args, env=None):
    return [sys.executable, "-m", "datasette", "seller-export", *map(str, args)]


@pytest.fixture
def big_production(postgres):
    """200,000 plain sellers, so that a sync lasts long enough to be interrupted."""
    load_production(postgres.url, [], COLUMNS)
    pg(
        postgres.url,
        "INSERT INTO sellers (id, org_id, display_name, created_at) SELECT 'big-' || n, "
        "'org-' || (n % 7), 'Seller ' || n, timestamptz '2024-01-01' + n * interval '1 second' "
        "FROM generate_series(1, 200000) AS n",
    )
    return postgres.url


def wait_for_copy(url, keep_waiting, terminate=False, timeout=60):
    """Wait until a sync's COPY runs on the server (and end its connection, if `terminate`);
    whether it was seen before `keep_waiting()` turned false or the timeout."""
    deadline = time.monotonic() + timeout
    action = "pg_terminate_backend(pid)" if terminate else "pid"
    while time.monotonic() < deadline and keep_waiting():
        found = pg(
            url,
            f"SELECT {action} FROM pg_stat_activity "
            "WHERE query LIKE 'COPY (SELECT%%' AND state = 'active' AND pid <> pg_backend_pid()",
        )
        if found:
            return True
        time.sleep(0.005)
    return False


def test_a_run_killed_half_way_leaves_the_mirror_as_it_was(big_production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    assert sync(mirror, big_production).exit_code == 0
    before = mirror_content(mirror)
    pg(
        big_production,
        "UPDATE sellers SET display_name = display_name || ' (renamed)', updated_at = now()",
    )
    process = subprocess.Popen(
        _sellers_cli("sync", mirror, "--from", big_production),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # Killed while it reads the rows into its open transaction (the WAL would only show the
    # commit: the load's page cache holds the rows until then).
    assert wait_for_copy(big_production, lambda: process.poll() is None)
    time.sleep(0.2)
    assert process.poll() is None, process.stdout.read().decode()
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert mirror_content(mirror) == before
    result = sync(mirror, big_production)
    assert result.exit_code == 0 and "~" in result.output
    assert_mirror_equals_production(mirror, big_production)


def test_a_lost_connection_changes_nothing(big_production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    sync(mirror, big_production, "--full")
    before = mirror_content(mirror)
    pg(big_production, "UPDATE sellers SET times_seen = times_seen + 1, updated_at = now()")
    done = threading.Event()
    killer = threading.Thread(
        target=lambda: wait_for_copy(big_production, lambda: not done.is_set(), terminate=True)
    )
    killer.start()
    try:
        result = sync(mirror, big_production)
    finally:
        done.set()
        killer.join()
    assert result.exit_code == 1, result.output
    assert "failed after" in result.output and "the mirror is unchanged" in result.output
    assert mirror_content(mirror) == before


def test_every_repeats_and_stops_cleanly_on_ctrl_c(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    log = tmp_path / "sync.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            _sellers_cli("sync", mirror, "--from", production, "--every", "0.3s"),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and log.read_text().count(" read") < 3:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    lines = [
        line for line in log.read_text().splitlines() if "rows read" in line or "row read" in line
    ]
    assert len(lines) >= 3
    assert "every row read" in lines[0] and "+0 ~0 -0" in lines[1]
    assert "sort and search indexes built in" in lines[0]
    assert "Stopped." in log.read_text() and "Traceback" not in log.read_text()


def test_an_export_running_across_a_sync_keeps_the_promise(big_production, tmp_path, serve):
    """A row that exists unchanged for the whole export appears exactly once; no row twice."""
    mirror = str(tmp_path / "mirror.db")
    sync(mirror, big_production)
    server = serve(mirror, "--root", "-s", "plugins.datasette-seller-export.batch_size", "500")
    untouched = {
        row[0]
        for row in pg(
            big_production,
            "SELECT display_name FROM sellers WHERE org_id = 'org-3' AND id NOT LIKE '%7'",
        )
    }
    pg(
        big_production,
        "UPDATE sellers SET display_name = display_name || ' (changed)', updated_at = now(), "
        "created_at = created_at + interval '1 day' WHERE org_id = 'org-3' AND id LIKE '%7'",
    )
    pg(
        big_production,
        "INSERT INTO sellers (id, org_id, display_name, created_at) "
        "SELECT 'extra-' || n, 'org-3', 'Extra ' || n, "
        "timestamptz '2024-01-02' + n * interval '1 second' FROM generate_series(1, 5000) AS n",
    )
    request = urllib.request.Request(
        server.url + "/export/sellers/ndjson?org_id=org-3",
        headers={"Cookie": "ds_actor=" + actor_cookie(ROOT)},
    )
    with urllib.request.urlopen(request) as response:
        first = response.read(64 * 1024)
        # The sync runs, and commits, while the export is under way; the server answers meanwhile.
        syncing = subprocess.Popen(
            _sellers_cli("sync", mirror, "--from", big_production),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        answered = 0
        while syncing.poll() is None:
            with urllib.request.urlopen(server.url + "/-/versions.json", timeout=5) as ping:
                answered += ping.status == 200
            time.sleep(0.05)
        assert syncing.returncode == 0, syncing.stdout.read().decode()
        body = first + response.read()
    names = [json.loads(line)["display_name"] for line in body.decode().splitlines()]
    assert len(names) == len(set(names)), "a row appeared twice"
    assert untouched <= set(names)
    assert answered >= 1


@pytest.mark.parametrize("time_zone", ["Europe/Berlin", "America/St_Johns", "UTC"])
def test_a_psql_dump_made_in_any_time_zone_imports_as_the_sync_mirrors(
    production, tmp_path, time_zone
):
    """The issue's dump: `\\copy ... CSV` over a psql session whose time zone is not UTC."""
    dump = tmp_path / "dump.csv"
    subprocess.run(
        ["psql", "-X", "-q", production, "-c", f"\\copy sellers TO '{dump}' (FORMAT csv, HEADER)"],
        check=True,
        env=dict(os.environ, PGTZ=time_zone),
    )
    if time_zone != "UTC":
        assert "+0" not in dump.read_text() or "+01" in dump.read_text()  # offsets, not Z
    imported, synced = str(tmp_path / "imported.db"), str(tmp_path / "synced.db")
    result = run_cli("import", imported, dump)
    assert result.exit_code == 0, result.output
    assert sync(synced, production).exit_code == 0
    for org_id in ORGS:
        assert (
            mirror_export(imported, org_id)
            == mirror_export(synced, org_id)
            == pg_export(production, org_id)
        )


def test_a_mirror_written_before_the_timestamp_rule_is_rewritten_once(production, tmp_path):
    from support.sellers import build_sellers_db

    mirror = build_sellers_db(tmp_path / "old.db", {"org-old": 30})
    conn = sqlite3.connect(mirror)
    with conn:
        # What earlier versions wrote: whole seconds with a Z, or an offset.
        conn.execute("UPDATE sellers SET created_at = '2025-01-15T08:30:00Z' WHERE rowid % 3 = 0")
        conn.execute("UPDATE sellers SET created_at = '2025-01-15 10:30:00+02' WHERE rowid % 3 = 1")
    old_order = mirror_export(mirror, "org-old")
    result = sync(mirror, production)
    assert result.exit_code == 0, result.output
    widths = conn.execute(
        "SELECT DISTINCT length(created_at) FROM sellers WHERE created_at IS NOT NULL"
    )
    assert widths.fetchall() == [(27,)]
    new = mirror_export(mirror, "org-old")
    assert sorted(row["display_name"] or "" for row in new) == sorted(
        row["display_name"] or "" for row in old_order
    )
    assert {row["created_at"] for row in new} >= {"2025-01-15T08:30:00.000000Z"}
    for org_id in ORGS:
        assert mirror_export(mirror, org_id) == pg_export(production, org_id), org_id
    assert "timestamps of 22 older rows rewritten as UTC" in result.output
    # Once: the next run does not look at them again.
    assert "rewritten" not in sync(mirror, production).output


def test_an_old_value_that_is_not_a_timestamp_stops_the_write(production, tmp_path):
    from support.sellers import build_sellers_db

    mirror = build_sellers_db(tmp_path / "old.db", {"org-old": 5})
    conn = sqlite3.connect(mirror)
    with conn:
        conn.execute("UPDATE sellers SET created_at = 'last tuesday' WHERE rowid = 2")
    (bad_id,) = conn.execute("SELECT id FROM sellers WHERE rowid = 2").fetchone()
    before = mirror_content(mirror)
    result = sync(mirror, production)
    assert result.exit_code == 1
    assert f"id {bad_id!r}: a timestamp written before this version is not one" in result.output
    assert mirror_content(mirror) == before


def test_a_name_changed_by_a_sync_is_found_by_search_and_the_old_one_is_not(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    sync(mirror, production)
    (id_,) = pg(
        production, "SELECT id FROM sellers WHERE org_id = 'org-b' AND deleted_at IS NULL LIMIT 1"
    )[0]
    pg(
        production,
        "UPDATE sellers SET display_name = 'Zanzibar Antiques', "
        "normalized_name = 'zanzibar antiques', updated_at = now() WHERE id = %s",
        (id_,),
    )
    pg(production, "UPDATE sellers SET times_seen = 7, updated_at = now() WHERE org_id = 'org-a'")
    assert sync(mirror, production).exit_code == 0
    found = json.loads(
        run_cli("export", mirror, "--org", "org-b", "--format", "json", "-q", "zanzibar").stdout
    )
    assert [row["display_name"] for row in found] == ["Zanzibar Antiques"]
    conn = sqlite3.connect(mirror)
    # The search index agrees with the table, row for row (FTS5's own check).
    conn.execute("INSERT INTO sellers_fts (sellers_fts) VALUES ('integrity-check')")
    trigger = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'sellers_au'").fetchone()[0]
    assert " UPDATE OF " in trigger


def test_init_narrows_the_search_trigger_of_an_older_mirror(sellers_db):
    conn = sqlite3.connect(sellers_db)
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'sellers_au'").fetchone()
    with conn:
        conn.execute("DROP TRIGGER sellers_au")
        conn.execute(
            sql.replace(sql[sql.index(" AFTER UPDATE OF ") : sql.index(" ON ")], " AFTER UPDATE")
        )
    result = run_cli("init", sellers_db)
    assert "now updated only when names change" in result.output
    assert "are already in place" in run_cli("init", sellers_db).output


def test_without_psycopg_sync_says_how_to_install_it(tmp_path):
    """In a process where psycopg cannot be imported, as without the `postgres` extra."""
    hidden = {"psycopg": {"__init__.py": "raise ImportError('No module named psycopg')\n"}}
    command = ["seller-export", "sync", tmp_path / "m.db", "--from", "postgresql://x@127.0.0.1/db"]
    result = run_datasette_with(hidden, tmp_path / "hidden", *command)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "pip install 'datasette-seller-export[postgres]'" in result.stderr
    assert not (tmp_path / "m.db").exists()


def test_sync_without_a_url_names_both_ways_to_give_one(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["seller-export", "sync", str(tmp_path / "mirror.db")])
    assert result.exit_code == 2
    assert "--from postgresql://" in result.output and "$DATABASE_URL" in result.output


def test_init_leaves_a_search_trigger_of_another_shape_as_it_is(sellers_db):
    """Only sqlite-utils' own update trigger is narrowed; one written another way (here in
    lower case) is kept, and nothing claims it was changed."""
    conn = sqlite3.connect(sellers_db)
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'sellers_au'").fetchone()
    start, end = sql.index(" AFTER UPDATE OF "), sql.index(" ON ")
    other = sql[:start] + " after update" + sql[end:].replace(" ON ", " on ", 1)
    with conn:
        conn.execute("DROP TRIGGER sellers_au")
        conn.execute(other)
    result = run_cli("init", sellers_db)
    assert result.exit_code == 0 and "now updated only when names change" not in result.output
    (kept,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'sellers_au'").fetchone()
    assert kept == other
    conn.close()
