"""`sync --follow` against a real PostgreSQL with wal_level=logical: every kind of change in
commit order, whole transactions only, a first copy that meets the stream exactly, and a
follower that can be killed, cut off or outlived by its slot and still ends equal to
production, row for row and column for column."""

import contextlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from support.clients import run_cli
from support.postgres import Cluster, load_production
from support.sellers import seller

from datasette_seller_export.engine.schema import STATE_TABLE
from datasette_seller_export.mirror.follow import follow
from datasette_seller_export.mirror.records import COLUMNS
from datasette_seller_export.mirror.replication import default_slot_name
from datasette_seller_export.mirror.timestamps import format_utc

pytestmark = pytest.mark.served
CATCH_UP_SECONDS = 30


def pg(url, sql, params=None):
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def reset(url):
    """No slot or publication of an earlier test: each test's production table is new."""
    for (slot,) in pg(url, "SELECT slot_name FROM pg_replication_slots WHERE NOT active"):
        pg(url, "SELECT pg_drop_replication_slot(%s)", (slot,))
    for (publication,) in pg(url, "SELECT pubname FROM pg_publication"):
        pg(url, f'DROP PUBLICATION "{publication}"')


def records(count, org_id="org-a", seed=0, prefix="s"):
    rng = random.Random(seed)
    out = []
    for number in range(count):
        row = seller(rng, org_id, number, deleted=number % 17 == 0)
        row["id"] = f"{prefix}-{number:06d}"
        out.append([row[column] for column in COLUMNS])
    return out


@pytest.fixture
def production(postgres):
    reset(postgres.url)
    load_production(postgres.url, records(300), COLUMNS)
    return postgres.url


def production_rows(url, table="sellers"):
    """Every row of production, every column, as the mirror stores them, by id."""
    rows = {}
    for row in pg(url, f"SELECT {', '.join(COLUMNS)} FROM {table}"):
        values = list(row)
        for index, value in enumerate(values):
            if hasattr(value, "tzinfo"):
                values[index] = format_utc(value)
            elif isinstance(value, bool):
                values[index] = int(value)
        rows[values[0]] = tuple(values)
    return rows


def mirror_rows(mirror, table="sellers"):
    with contextlib.closing(sqlite3.connect(mirror)) as conn:
        return {row[0]: row for row in conn.execute(f"SELECT {', '.join(COLUMNS)} FROM {table}")}


def mirror_state(mirror):
    with contextlib.closing(sqlite3.connect(mirror)) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute(f"SELECT * FROM {STATE_TABLE}").fetchone())


def wait_until_equal(mirror, url, seconds=CATCH_UP_SECONDS, follower=None, table="sellers"):
    """Until the mirror holds exactly production's rows (of `table` there); fails with the
    difference."""
    deadline = time.monotonic() + seconds
    while True:
        expected = production_rows(url, table)
        try:
            got = mirror_rows(mirror)
        except sqlite3.OperationalError:  # no table yet: the copy is still under way
            got = {}
        if got == expected:
            return expected
        if follower is not None and follower.errors:
            raise follower.errors[0]
        if time.monotonic() > deadline:
            missing = sorted(set(expected) - set(got))[:5]
            extra = sorted(set(got) - set(expected))[:5]
            differ = [k for k in expected if k in got and got[k] != expected[k]][:3]
            pytest.fail(
                f"mirror differs: missing {missing}, extra {extra}, "
                f"differ {[(expected[k], got[k]) for k in differ]}"
            )
        time.sleep(0.05)


class Follower:
    """`follow` in a thread of this process, stopped (and joined) by `stop()`."""

    def __init__(self, mirror, url, **options):
        self.lines, self.errors = [], []
        self._stop = threading.Event()

        def run():
            try:
                follow(
                    mirror, url, should_stop=self._stop.is_set, report=self.lines.append, **options
                )
            except BaseException as error:  # noqa: BLE001 - the test reads it
                self.errors.append(error)

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def stop(self):
        self._stop.set()
        self.thread.join(15)
        assert not self.thread.is_alive(), "the follower did not stop"

    def wait_for_error(self, seconds=CATCH_UP_SECONDS):
        self.thread.join(seconds)
        assert self.errors, f"the follower did not stop: {self.lines}"
        return self.errors[0]


@contextlib.contextmanager
def following(mirror, url, **options):
    follower = Follower(mirror, url, **options)
    try:
        yield follower
    finally:
        follower.stop()
    if follower.errors:
        raise follower.errors[0]


def test_a_new_mirror_is_copied_then_follows_every_kind_of_change(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    with following(mirror, production) as follower:
        wait_until_equal(mirror, production, follower=follower)
        pg(production, "DELETE FROM sellers WHERE id = 's-000001'")  # a hard delete
        pg(production, "UPDATE sellers SET deleted_at = now() WHERE id = 's-000002'")
        pg(production, "UPDATE sellers SET deleted_at = NULL WHERE id = 's-000017'")  # undelete
        pg(
            production,
            "UPDATE sellers SET org_id = 'org-b', display_name = 'Ünïcode, \"quoted\"\nline', "
            "normalized_name = 'n', platform = 'etsy', platform_id = 'p', times_seen = 7, "
            "feedback_percent = 12.345678901234567, feedback_count = NULL, flagged = NOT flagged, "
            "first_seen_run_id = 'r1', last_seen_run_id = 'r2', "
            "created_at = '2024-02-29 23:59:59.999999+00', updated_at = now(), "
            "deleted_at = NULL WHERE id = 's-000003'",
        )
        pg(production, "UPDATE sellers SET id = 'renamed' WHERE id = 's-000004'")
        pg(production, "INSERT INTO sellers (id, org_id) VALUES ('new', 'org-c')")
        rows = wait_until_equal(mirror, production, follower=follower)
    assert "s-000001" not in rows and "renamed" in rows and "s-000004" not in rows
    assert rows["s-000003"][7] == 12.345678901234567  # floats exact, in every digit
    assert rows["s-000003"][2] == 'Ünïcode, "quoted"\nline'
    state = mirror_state(mirror)
    assert state["replication_slot"] == default_slot_name(mirror)
    assert state["replication_commit_time"] is not None
    # The mirror exports as any mirror does: the deletes are gone from its export too.
    export = run_cli("export", mirror, "--org", "org-a", "--format", "json")
    live = pg(
        production, "SELECT count(*) FROM sellers WHERE org_id = 'org-a' AND deleted_at IS NULL"
    )
    assert export.exit_code == 0 and len(json.loads(export.stdout)) == live[0][0]


def test_a_big_transaction_is_seen_whole_or_not_at_all(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    with following(mirror, production) as follower:
        before = len(wait_until_equal(mirror, production, follower=follower))
        seen = set()
        done = threading.Event()

        def watch():
            with contextlib.closing(sqlite3.connect(mirror)) as conn:
                while not done.is_set():
                    seen.add(conn.execute("SELECT count(*) FROM sellers").fetchone()[0])

        watcher = threading.Thread(target=watch)
        watcher.start()
        pg(
            production,
            "INSERT INTO sellers (id, org_id, created_at) SELECT 'bulk-' || n, 'org-z', "
            "now() - n * interval '1 second' FROM generate_series(1, 10000) AS n",
        )
        wait_until_equal(mirror, production, follower=follower)
        done.set()
        watcher.join()
    assert seen == {before, before + 10_000}


def test_a_rolled_back_transaction_never_appears(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    with following(mirror, production) as follower:
        wait_until_equal(mirror, production, follower=follower)
        with psycopg.connect(production) as conn:
            conn.execute("INSERT INTO sellers (id, org_id) VALUES ('ghost', 'org-a')")
            conn.execute("DELETE FROM sellers WHERE id = 's-000005'")
            conn.rollback()
        pg(production, "INSERT INTO sellers (id, org_id) VALUES ('after', 'org-a')")
        rows = wait_until_equal(mirror, production, follower=follower)
    assert "ghost" not in rows and "s-000005" in rows and "after" in rows


def test_interleaved_transactions_apply_in_commit_order(production, tmp_path):
    """Two sessions change the same row: the mirror ends as production, whose last commit
    wins, not as the order the statements ran in."""
    mirror = str(tmp_path / "mirror.db")
    with following(mirror, production) as follower:
        wait_until_equal(mirror, production, follower=follower)
        with psycopg.connect(production) as first, psycopg.connect(production) as second:
            first.execute("INSERT INTO sellers (id, org_id, times_seen) VALUES ('x', 'o', 1)")
            second.execute("INSERT INTO sellers (id, org_id, times_seen) VALUES ('y', 'o', 2)")
            second.execute("UPDATE sellers SET times_seen = 20 WHERE id = 's-000006'")
            second.commit()
            first.execute("UPDATE sellers SET times_seen = 10 WHERE id = 's-000006'")
            first.commit()
        rows = wait_until_equal(mirror, production, follower=follower)
    assert rows["s-000006"][6] == 10 and {"x", "y"} <= set(rows)


def test_timestamps_written_in_another_time_zone_arrive_in_utc(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    with following(mirror, production) as follower:
        wait_until_equal(mirror, production, follower=follower)
        with psycopg.connect(production, autocommit=True) as conn:
            conn.execute("SET TimeZone = 'Europe/Berlin'")
            conn.execute(
                "INSERT INTO sellers (id, org_id, created_at) VALUES "
                "('summer', 'o', '2024-03-31 03:10:00.12'), ('winter', 'o', '2024-10-27 02:30:00')"
            )
        rows = wait_until_equal(mirror, production, follower=follower)
    assert rows["summer"][12] == "2024-03-31T01:10:00.120000Z"
    assert rows["winter"][12] == "2024-10-27T01:30:00.000000Z"


def test_integer_ids_follow_as_numbers(postgres, tmp_path):
    reset(postgres.url)
    load_production(
        postgres.url,
        [[n, "org-a", f"seller {n}"] for n in (8, 11, 100)],
        ["id", "org_id", "display_name"],
        id_type="bigint",
    )
    mirror = str(tmp_path / "mirror.db")
    with following(mirror, postgres.url) as follower:
        wait_until_equal(mirror, postgres.url, follower=follower)
        pg(postgres.url, "UPDATE sellers SET id = 9 WHERE id = 8")
        pg(postgres.url, "DELETE FROM sellers WHERE id = 11")
        rows = wait_until_equal(mirror, postgres.url, follower=follower)
    assert set(rows) == {9, 100}


def test_a_large_value_an_update_leaves_out_is_kept(production, tmp_path):
    """PostgreSQL leaves a TOASTed value out of an update that did not change it."""
    mirror = str(tmp_path / "mirror.db")
    # Random hex, too big for the row even compressed: stored out of line (TOAST), so an
    # update of another column sends it as "unchanged" (checked: pgoutput's 'u').
    long_name = random.Random(5).randbytes(10_000).hex()
    with following(mirror, production) as follower:
        wait_until_equal(mirror, production, follower=follower)
        pg(production, "UPDATE sellers SET display_name = %s WHERE id = 's-000014'", (long_name,))
        wait_until_equal(mirror, production, follower=follower)
        pg(production, "UPDATE sellers SET times_seen = 4242 WHERE id = 's-000014'")
        rows = wait_until_equal(mirror, production, follower=follower)
    assert rows["s-000014"][2] == long_name and rows["s-000014"][6] == 4242


def test_a_table_with_full_replica_identity_in_its_own_schema(postgres, tmp_path):
    reset(postgres.url)
    pg(postgres.url, "CREATE SCHEMA IF NOT EXISTS app")
    load_production(postgres.url, records(50), COLUMNS, table="app.sellers")
    pg(postgres.url, "ALTER TABLE app.sellers DROP CONSTRAINT sellers_pkey")
    pg(postgres.url, "ALTER TABLE app.sellers REPLICA IDENTITY FULL")
    mirror = str(tmp_path / "mirror.db")
    with following(mirror, postgres.url, source_table="app.sellers") as follower:
        wait_until_equal(mirror, postgres.url, follower=follower, table="app.sellers")
        pg(postgres.url, "UPDATE app.sellers SET id = 'moved' WHERE id = 's-000001'")
        pg(postgres.url, "DELETE FROM app.sellers WHERE id = 's-000002'")
        rows = wait_until_equal(mirror, postgres.url, follower=follower, table="app.sellers")
    assert "moved" in rows and "s-000001" not in rows and "s-000002" not in rows
    publications = pg(postgres.url, "SELECT pubname, schemaname FROM pg_publication_tables")
    assert publications == [("seller_export_app_sellers", "app")]


def test_truncate_empties_the_mirror(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    with following(mirror, production) as follower:
        wait_until_equal(mirror, production, follower=follower)
        pg(production, "TRUNCATE sellers")
        pg(production, "INSERT INTO sellers (id, org_id) VALUES ('only', 'o')")
        assert set(wait_until_equal(mirror, production, follower=follower)) == {"only"}


def test_a_value_the_mirror_cannot_take_stops_it_before_that_transaction(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    follower = Follower(mirror, production)
    wait_until_equal(mirror, production, follower=follower)
    pg(production, "INSERT INTO sellers (id, org_id) VALUES ('good', 'o')")
    wait_until_equal(mirror, production, follower=follower)
    position = mirror_state(mirror)["replication_lsn"]
    with psycopg.connect(production) as conn:
        conn.execute("INSERT INTO sellers (id, org_id) VALUES ('with-it', 'o')")
        conn.execute("UPDATE sellers SET created_at = 'infinity' WHERE id = 's-000007'")
    error = follower.wait_for_error()
    assert "id 's-000007' in production transaction" in str(error)
    assert "created_at: 'infinity' is not a timestamp" in str(error)
    assert "with-it" not in mirror_rows(mirror)
    assert mirror_state(mirror)["replication_lsn"] == position


def test_a_column_added_in_production_stops_it_until_told(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    follower = Follower(mirror, production)
    wait_until_equal(mirror, production, follower=follower)
    pg(production, "ALTER TABLE sellers ADD COLUMN secret text")
    pg(production, "UPDATE sellers SET secret = 'hidden', times_seen = 99 WHERE id = 's-000008'")
    error = str(follower.wait_for_error())
    assert "now has columns the mirror does not know: secret" in error
    assert mirror_rows(mirror)["s-000008"][6] != 99  # nothing in the new shape was applied
    result = run_cli("sync", mirror, "--from", production, "--follow")
    assert result.exit_code == 1 and "does not know: secret" in result.output
    assert "Traceback" not in result.output
    with following(mirror, production, ignore_unknown_columns=True) as follower:
        expected = {k: v for k, v in production_rows(production).items()}
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while mirror_rows(mirror)["s-000008"][6] != 99 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert mirror_rows(mirror)["s-000008"][6] == 99
    assert set(mirror_rows(mirror)) == set(expected)
    with contextlib.closing(sqlite3.connect(mirror)) as conn:
        assert "hidden" not in "".join(conn.iterdump())


def test_a_mirror_the_watermark_sync_kept_is_copied_afresh_then_followed(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    assert run_cli("sync", mirror, "--from", production).exit_code == 0
    pg(production, "DELETE FROM sellers WHERE id = 's-000009'")  # what a watermark never sees
    with following(mirror, production) as follower:
        rows = wait_until_equal(mirror, production, follower=follower)
    assert "s-000009" not in rows
    result = run_cli("sync", mirror, "--from", production)
    assert result.exit_code == 1
    assert "follows production through the slot" in result.output
    assert "sync --drop-slot" in result.output


def test_a_follower_stopped_before_the_indexes_builds_them_when_it_goes_on(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    with following(mirror, production) as follower:
        wait_until_equal(mirror, production, follower=follower)
    with contextlib.closing(sqlite3.connect(mirror)) as conn:
        indexes = [
            name for (name,) in conn.execute("SELECT name FROM pragma_index_list('sellers')")
        ]
        for name in indexes:
            if not name.startswith("sqlite_autoindex"):
                conn.execute(f'DROP INDEX "{name}"')
        conn.commit()
    with following(mirror, production) as follower:
        wait_until_equal(mirror, production, follower=follower)
    assert any(line.startswith("completed the mirror") for line in follower.lines)
    with contextlib.closing(sqlite3.connect(mirror)) as conn:
        again = [name for (name,) in conn.execute("SELECT name FROM pragma_index_list('sellers')")]
    assert sorted(again) == sorted(indexes)


def test_status_shows_the_slot_and_drop_slot_removes_it(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    with following(mirror, production) as follower:
        wait_until_equal(mirror, production, follower=follower)
        result = run_cli("sync", mirror, "--from", production, "--status")
        assert result.exit_code == 0, result.output
        assert f"slot: {default_slot_name(mirror)}" in result.output
        assert "reader: PostgreSQL process" in result.output
        busy = run_cli("sync", mirror, "--from", production, "--drop-slot")
        assert busy.exit_code == 1 and "being read by a follower" in busy.output
    result = run_cli("sync", mirror, "--from", production, "--status")
    assert "reader: none. PostgreSQL keeps every WAL segment" in result.output
    assert "max_slot_wal_keep_size is -1" in result.output
    result = run_cli("sync", mirror, "--from", production, "--drop-slot")
    assert result.exit_code == 0 and "dropped" in result.output
    assert pg(production, "SELECT count(*) FROM pg_replication_slots") == [(0,)]
    assert mirror_state(mirror)["replication_slot"] is None
    # Now the watermark sync may run again, and a later --follow copies afresh.
    assert run_cli("sync", mirror, "--from", production).exit_code == 0


def test_wal_of_other_tables_is_not_kept_for_an_idle_mirror(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    pg(production, "CREATE TABLE IF NOT EXISTS busy (n int)")
    with following(mirror, production) as follower:
        wait_until_equal(mirror, production, follower=follower)
        (start,) = pg(production, "SELECT pg_current_wal_lsn()")[0]
        for _ in range(20):
            pg(production, "INSERT INTO busy SELECT generate_series(1, 1000)")
        (end,) = pg(production, "SELECT pg_current_wal_lsn()")[0]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ((confirmed_after_end,),) = pg(
                production,
                "SELECT confirmed_flush_lsn >= %s FROM pg_replication_slots WHERE slot_name = %s",
                (end, default_slot_name(mirror)),
            )
            if confirmed_after_end:
                break
            time.sleep(0.2)
    assert confirmed_after_end, (start, end)


def test_two_mirrors_follow_one_production_each_with_its_own_slot(production, tmp_path):
    first, second = str(tmp_path / "first.db"), str(tmp_path / "second.db")
    with following(first, production) as one, following(second, production) as two:
        wait_until_equal(first, production, follower=one)
        wait_until_equal(second, production, follower=two)
        pg(production, "DELETE FROM sellers WHERE id = 's-000010'")
        wait_until_equal(first, production, follower=one)
        wait_until_equal(second, production, follower=two)
    slots = {slot for (slot,) in pg(production, "SELECT slot_name FROM pg_replication_slots")}
    assert slots == {default_slot_name(first), default_slot_name(second)}


def test_errors_that_say_what_a_dba_must_run(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")

    def refused(url, *args):
        result = run_cli("sync", mirror, "--from", url, "--follow", *args)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert not os.path.exists(mirror)
        return result.output

    pg(production, "DROP ROLE IF EXISTS reader")
    pg(production, "CREATE ROLE reader LOGIN PASSWORD 'pw'")
    pg(production, "GRANT SELECT ON sellers TO reader")
    reader = production.replace("postgres:test-password", "reader:pw")
    assert "ALTER ROLE reader REPLICATION;" in refused(reader)
    pg(production, "ALTER ROLE reader REPLICATION")
    output = refused(reader)
    assert "CREATE PUBLICATION seller_export_sellers FOR TABLE sellers;" in output
    pg(production, "CREATE PUBLICATION seller_export_sellers FOR TABLE sellers")
    pg(production, "CREATE TABLE IF NOT EXISTS other (id text)")
    pg(production, "CREATE PUBLICATION elsewhere FOR TABLE other")
    output = refused(production, "--publication", "elsewhere")
    assert "ALTER PUBLICATION elsewhere ADD TABLE sellers;" in output
    pg(production, "CREATE PUBLICATION inserts_only FOR TABLE sellers WITH (publish = 'insert')")
    output = refused(production, "--publication", "inserts_only")
    assert "SET (publish = 'insert, update, delete, truncate')" in output
    pg(production, "ALTER TABLE sellers DROP CONSTRAINT sellers_pkey")
    assert "REPLICA IDENTITY FULL" in refused(production)
    assert "no table 'nope'" in refused(production, "--source-table", "nope")
    assert "a slot name is 1 to 63" in refused(production, "--slot", "Bad-Name")
    usage = run_cli("sync", mirror, "--from", production, "--follow", "--full")
    assert usage.exit_code == 2 and "--full belongs to the watermark sync" in usage.output
    usage = run_cli("sync", mirror, "--from", production, "--publication", "p")
    assert usage.exit_code == 2 and "--publication goes with --follow" in usage.output
    usage = run_cli("sync", mirror, "--from", production, "--follow", "--status")
    assert usage.exit_code == 2 and "do different things: choose one" in usage.output


def test_a_server_without_logical_wal_is_one_line_naming_the_fix(tmp_path):
    cluster = Cluster(settings={"wal_level": "replica"}).start()
    try:
        load_production(cluster.url, [], COLUMNS)
        result = run_cli("sync", str(tmp_path / "m.db"), "--from", cluster.url, "--follow")
    finally:
        cluster.stop()
    assert result.exit_code == 1
    assert "wal_level is 'replica'" in result.output
    assert "ALTER SYSTEM SET wal_level = logical" in result.output


def _follower_process(mirror, url, log):
    command = [sys.executable, "-m", "datasette", "seller-export", "sync", mirror]
    return subprocess.Popen(
        [*command, "--from", url, "--follow"], stdout=log, stderr=subprocess.STDOUT
    )


class Writer:
    """Changes production without pause from a thread: inserts, updates of any column, soft
    and hard deletes, undeletes and id changes, in transactions of 1 to 2,000 changes."""

    def __init__(self, url, seed, first_rows):
        self.url, self.rng, self.first_rows = url, random.Random(seed), first_rows
        self.running = threading.Event()
        self.running.set()
        self.stopped = threading.Event()
        self.errors = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            with psycopg.connect(self.url) as conn:
                number = 0
                while not self.stopped.is_set():
                    if not self.running.wait(0.1):
                        continue
                    size = self.rng.choice([1, 1, 2, 5, 20, 100, 2000])
                    for _ in range(size):
                        number += 1
                        self._change(conn, number)
                    conn.commit()
        except BaseException as error:  # noqa: BLE001 - the test reads it
            self.errors.append(error)

    def _change(self, conn, number):
        kind = self.rng.random()
        # A row of the first copy or one the writer added (perhaps gone since: then a no-op).
        if self.rng.random() < 0.5:
            pick = f"'s-{self.rng.randrange(self.first_rows):06d}'"
        else:
            pick = f"'w-{self.rng.randrange(1, number + 1)}'"
        if kind < 0.4:
            conn.execute(
                "INSERT INTO sellers (id, org_id, display_name, times_seen, created_at) VALUES "
                "(%s, %s, %s, %s, now())",
                (f"w-{number}", f"org-{number % 3}", f"Writer {number} ✓", number),
            )
        elif kind < 0.7:
            conn.execute(
                f"UPDATE sellers SET times_seen = times_seen + 1, feedback_percent = random(), "
                f"display_name = 'Upd ' || %s, updated_at = now() WHERE id = {pick}",
                (number,),
            )
        elif kind < 0.8:
            conn.execute(f"UPDATE sellers SET deleted_at = now() WHERE id = {pick}")
        elif kind < 0.85:
            conn.execute(f"UPDATE sellers SET deleted_at = NULL WHERE id = {pick}")
        elif kind < 0.95:
            conn.execute(f"DELETE FROM sellers WHERE id = {pick}")
        else:
            conn.execute(f"UPDATE sellers SET id = 'moved-' || %s WHERE id = {pick}", (number,))

    def pause(self):
        self.running.clear()
        time.sleep(0.3)  # the transaction under way commits

    def stop(self):
        """Stop after the transaction under way (again: a no-op)."""
        self.stopped.set()
        self.running.set()
        self.thread.join(30)
        if self.errors:
            raise self.errors.pop()


def test_killed_anywhere_it_goes_on_with_nothing_lost_or_applied_twice(postgres, tmp_path):
    reset(postgres.url)
    load_production(postgres.url, records(30_000), COLUMNS)
    mirror = str(tmp_path / "mirror.db")
    rng = random.Random(36)
    writer = Writer(postgres.url, seed=1, first_rows=30_000)
    log = open(tmp_path / "follower.log", "ab")
    process = _follower_process(mirror, postgres.url, log)
    try:
        # The first kill falls in the first copy, the others anywhere in the stream.
        for round_ in range(6):
            time.sleep(1.6 if round_ == 0 else rng.uniform(0.2, 2.5))
            process.send_signal(signal.SIGKILL if round_ % 3 else signal.SIGTERM)
            process.wait(30)
            process = _follower_process(mirror, postgres.url, log)
            writer.pause()
            wait_until_equal(mirror, postgres.url, seconds=60)
            writer.running.set()
        writer.stop()
        wait_until_equal(mirror, postgres.url, seconds=60)
    finally:
        writer.stop()
        process.send_signal(signal.SIGTERM)
        process.wait(30)
        log.close()
    output = (tmp_path / "follower.log").read_text()
    assert "Traceback" not in output, output
    assert "holds production up to" in output  # SIGTERM says where it stopped


@pytest.fixture
def own_postgres():
    """A cluster of this test's own, to restart and to starve of WAL: 1 MB WAL segments."""
    cluster = Cluster(wal_segment_mb=1).start()
    reset(cluster.url)
    load_production(cluster.url, records(300), COLUMNS)
    yield cluster
    cluster.stop()


def test_a_postgresql_restart_is_waited_out(own_postgres, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    url = own_postgres.url
    with following(mirror, url) as follower:
        wait_until_equal(mirror, url, follower=follower)
        own_postgres.restart()
        pg(url, "DELETE FROM sellers WHERE id = 's-000011'")
        pg(url, "INSERT INTO sellers (id, org_id) VALUES ('after-restart', 'o')")
        rows = wait_until_equal(mirror, url, follower=follower)
    assert "after-restart" in rows and "s-000011" not in rows
    assert any("lost production" in line and "trying again" in line for line in follower.lines)


@pytest.fixture
def partition():
    """`cut(port)` drops every packet to and from a port on loopback, as a network partition
    would (nothing is closed: no reset, no FIN); `heal()` lets them through again."""
    if shutil.which("iptables") is None or os.geteuid() != 0:
        pytest.skip("needs iptables and root (.ci/run installs iptables)")
    probe = ["INPUT", "-i", "lo", "-p", "tcp", "--dport", "9", "-j", "DROP"]
    if subprocess.run(["iptables", "-I", *probe], capture_output=True).returncode != 0:
        pytest.skip("iptables may not change rules here (no netfilter for this sandbox)")
    subprocess.run(["iptables", "-D", *probe], check=True)
    rules = []

    def cut(port):
        for match in (["--dport", str(port)], ["--sport", str(port)]):
            rule = ["INPUT", "-i", "lo", "-p", "tcp", *match, "-j", "DROP"]
            subprocess.run(["iptables", "-I", *rule], check=True)
            rules.append(rule)

    def heal():
        while rules:
            subprocess.run(["iptables", "-D", *rules.pop()], check=True)

    yield cut, heal
    heal()


def test_a_network_cut_that_closes_nothing_is_noticed_and_waited_out(
    own_postgres, tmp_path, partition
):
    cut, heal = partition
    mirror, url = str(tmp_path / "mirror.db"), own_postgres.url
    pg(url, "ALTER SYSTEM SET wal_sender_timeout = '5s'")  # the cut-off walsender ends sooner
    pg(url, "SELECT pg_reload_conf()")
    with following(mirror, url) as follower:
        wait_until_equal(mirror, url, follower=follower)
        cut(own_postgres.port)
        deadline = time.monotonic() + 90
        while not any("lost production" in line for line in follower.lines):
            assert time.monotonic() < deadline, follower.lines
            time.sleep(0.5)
        heal()
        pg(url, "DELETE FROM sellers WHERE id = 's-000013'")
        rows = wait_until_equal(mirror, url, seconds=90, follower=follower)
    assert "s-000013" not in rows


def test_a_slot_another_follower_reads_is_refused_at_a_start(production, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    with following(mirror, production) as follower:
        wait_until_equal(mirror, production, follower=follower)
        copy = str(tmp_path / "copy.db")
        with contextlib.closing(sqlite3.connect(mirror)) as source:
            with contextlib.closing(sqlite3.connect(copy)) as target:
                source.backup(target)
        result = run_cli("sync", copy, "--from", production, "--follow")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "is being read by another connection" in result.output
    assert "each mirror needs a slot of its own (--slot)" in result.output


def test_a_slot_production_invalidated_says_how_to_copy_afresh(own_postgres, tmp_path):
    mirror = str(tmp_path / "mirror.db")
    url = own_postgres.url
    with following(mirror, url) as follower:
        wait_until_equal(mirror, url, follower=follower)
    pg(url, "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'")
    pg(url, "SELECT pg_reload_conf()")
    pg(url, "DELETE FROM sellers WHERE id = 's-000012'")
    for _ in range(6):  # past the limit: PostgreSQL invalidates the slot at a checkpoint
        pg(url, "CREATE TABLE IF NOT EXISTS filler (t text); INSERT INTO filler VALUES ('x')")
        pg(url, "SELECT pg_switch_wal()")
    pg(url, "CHECKPOINT")
    status = run_cli("sync", mirror, "--from", url, "--status").output
    assert "invalidated (lost)" in status and "run sync --drop-slot" in status
    result = run_cli("sync", mirror, "--from", url, "--follow")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "invalidated by PostgreSQL" in result.output
    assert "run sync --drop-slot, then sync --follow again, which copies afresh" in result.output
    assert run_cli("sync", mirror, "--from", url, "--drop-slot").exit_code == 0
    with following(mirror, url) as follower:
        rows = wait_until_equal(mirror, url, follower=follower)
    assert "s-000012" not in rows


def test_writes_during_the_first_copy_meet_the_stream_exactly(postgres, tmp_path):
    reset(postgres.url)
    load_production(postgres.url, records(60_000), COLUMNS)
    mirror = str(tmp_path / "mirror.db")
    writer = Writer(postgres.url, seed=2, first_rows=60_000)
    follower = Follower(mirror, postgres.url)
    try:
        # The copy reads a snapshot; the writer commits before, during and after it.
        deadline = time.monotonic() + 60
        while not any(line.startswith("copied") for line in follower.lines):
            assert time.monotonic() < deadline and not follower.errors, follower.errors
            time.sleep(0.05)
        time.sleep(0.5)
        writer.pause()
        wait_until_equal(mirror, postgres.url, seconds=60, follower=follower)
    finally:
        writer.stop()
        follower.stop()
    assert not follower.errors
