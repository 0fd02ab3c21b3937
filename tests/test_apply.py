"""The applier on its own: decoded messages, built here, applied to a real mirror table. What
it promises a reader (whole transactions, the position beside the rows, nothing twice) does
not need PostgreSQL to be shown."""

import sqlite3

import pytest
import sqlite_utils

from datasette_seller_export.engine.schema import ensure_table
from datasette_seller_export.mirror import state
from datasette_seller_export.mirror.apply import Applier, OutOfStep
from datasette_seller_export.mirror.pgoutput import (
    UNCHANGED,
    Begin,
    Column,
    Commit,
    Delete,
    Insert,
    Relation,
    Truncate,
    Update,
    format_lsn,
)
from datasette_seller_export.mirror.postgres import SourceError
from datasette_seller_export.mirror.records import COLUMNS, RecordError

TABLE_ID = 16398
TYPES = {"times_seen": 23, "feedback_count": 23, "feedback_percent": 701, "flagged": 16}
RELATION = Relation(
    TABLE_ID,
    "public",
    "sellers",
    "d",
    tuple(Column(name, TYPES.get(name, 25), name == "id") for name in COLUMNS),
)


def row(id_, times_seen="0", name="Name", **values):
    values = {"org_id": "org-a", "display_name": name, "times_seen": times_seen, **values}
    values.setdefault("flagged", "f")
    return [id_ if column == "id" else values.get(column) for column in COLUMNS]


@pytest.fixture
def mirror(tmp_path):
    path = str(tmp_path / "mirror.db")
    db = sqlite_utils.Database(path)
    ensure_table(db, "sellers")
    db.close()
    conn = sqlite3.connect(path, isolation_level=None)
    yield conn
    conn.close()


def transaction(final_lsn, *changes, end_lsn=None):
    return [
        Begin(final_lsn, 1_700_000_000.0, 7),
        *changes,
        Commit(final_lsn, end_lsn or final_lsn + 8, 1_700_000_000.5),
    ]


def applied(applier, *messages):
    for message in messages:
        applier.handle(message)
    return applier


def rows(conn):
    return {r[0]: r for r in conn.execute("SELECT id, times_seen, display_name FROM sellers")}


def test_changes_are_committed_with_the_position_after_their_transaction(mirror):
    applier = Applier(mirror, "sellers", TABLE_ID, lsn=100)
    applied(applier, RELATION, *transaction(200, Insert(TABLE_ID, row("a")), end_lsn=240))
    assert applier.at_boundary
    # A reader sees nothing until the commit.
    reader = sqlite3.connect(mirror.execute("PRAGMA database_list").fetchone()[2])
    assert reader.execute("SELECT count(*) FROM sellers").fetchone() == (0,)
    applier.commit()
    assert reader.execute("SELECT count(*) FROM sellers").fetchone() == (1,)
    recorded = state.read(reader, "sellers")
    assert recorded["replication_lsn"] == format_lsn(240) and applier.lsn == 240
    assert recorded["replication_commit_time"] == "2023-11-14T22:13:20.500000Z"
    reader.close()


def test_no_commit_inside_a_production_transaction(mirror):
    applier = Applier(mirror, "sellers", TABLE_ID, lsn=100)
    applied(applier, RELATION, Begin(200, 0.0, 7), Insert(TABLE_ID, row("a")))
    assert not applier.at_boundary
    with pytest.raises(RuntimeError):
        applier.commit()
    applier.rollback()
    assert rows(mirror) == {} and applier.lsn == 100


def test_a_transaction_before_the_position_is_skipped(mirror):
    applier = Applier(mirror, "sellers", TABLE_ID, lsn=500)
    applied(applier, RELATION, *transaction(400, Insert(TABLE_ID, row("old"))))
    applied(applier, *transaction(500, Insert(TABLE_ID, row("new"))))
    applier.commit()
    assert set(rows(mirror)) == {"new"}


def test_updates_write_only_what_changed_and_keep_unchanged_large_values(mirror):
    applier = Applier(mirror, "sellers", TABLE_ID, lsn=0)
    applied(applier, RELATION, *transaction(10, Insert(TABLE_ID, row("a", "1", "Long name"))))
    applier.commit()
    values = row("a", "2")
    values[COLUMNS.index("display_name")] = UNCHANGED
    applied(applier, *transaction(20, Update(TABLE_ID, None, values)))
    applier.commit()
    applied(applier, *transaction(30, Update(TABLE_ID, None, row("a", "2", "Long name"))))
    applier.commit()
    assert rows(mirror) == {"a": ("a", 2, "Long name")}
    assert applier.totals["updated"] == 1 and applier.totals["transactions"] == 3


def test_a_group_holds_each_ids_last_state(mirror):
    """Insert, change, delete and insert again, in transactions committed together."""
    applier = Applier(mirror, "sellers", TABLE_ID, lsn=0)
    key = [None] * len(COLUMNS)
    key[0] = "a"
    values = row("a", "3")
    values[COLUMNS.index("display_name")] = UNCHANGED
    applied(
        applier,
        RELATION,
        *transaction(10, Insert(TABLE_ID, row("a", "1", "First")), Insert(TABLE_ID, row("b"))),
        *transaction(20, Update(TABLE_ID, None, values), Delete(TABLE_ID, key)),
        *transaction(30, Insert(TABLE_ID, row("a", "5", "Again")), Truncate((TABLE_ID,))),
        *transaction(40, Insert(TABLE_ID, row("c", "7"))),
    )
    applier.commit()
    assert rows(mirror) == {"c": ("c", 7, "Name")}
    with pytest.raises(OutOfStep):  # "a" is gone: its unchanged value cannot be known
        applied(applier, *transaction(50, Update(TABLE_ID, None, values)))


def test_an_id_change_a_delete_and_a_truncate(mirror):
    applier = Applier(mirror, "sellers", TABLE_ID, lsn=0)
    inserts = [Insert(TABLE_ID, row(id_)) for id_ in ("a", "b", "c")]
    applied(applier, RELATION, *transaction(10, *inserts))
    key = [None] * len(COLUMNS)
    key[0] = "a"
    applied(applier, *transaction(20, Update(TABLE_ID, key, row("z"))))
    key[0] = "b"
    applied(applier, *transaction(30, Delete(TABLE_ID, key)))
    applier.commit()
    assert set(rows(mirror)) == {"z", "c"}
    applied(applier, *transaction(40, Truncate((99, TABLE_ID))))
    applier.commit()
    assert rows(mirror) == {}


def test_other_tables_changes_are_not_applied(mirror):
    applier = Applier(mirror, "sellers", TABLE_ID, lsn=0)
    other = RELATION._replace(relation_id=1, name="other")
    applied(applier, RELATION, other, *transaction(10, Insert(1, row("x")), Truncate((1,))))
    applier.commit()
    assert rows(mirror) == {}


def test_a_bad_value_names_the_row_and_its_transaction(mirror):
    applier = Applier(mirror, "sellers", TABLE_ID, lsn=0)
    with pytest.raises(RecordError, match=r"id 'a' in production transaction 7 .*times_seen"):
        applied(applier, RELATION, *transaction(10, Insert(TABLE_ID, row("a", "many"))))


def test_an_update_of_a_row_the_mirror_lacks_with_unchanged_values_is_out_of_step(mirror):
    applier = Applier(mirror, "sellers", TABLE_ID, lsn=0)
    values = row("ghost")
    values[2] = UNCHANGED
    with pytest.raises(OutOfStep, match="does not hold"):
        applied(applier, RELATION, *transaction(10, Update(TABLE_ID, None, values)))


def test_a_change_of_columns_is_refused_unless_told(mirror):
    gained = RELATION._replace(columns=RELATION.columns + (Column("secret", 25, False),))
    applier = Applier(mirror, "sellers", TABLE_ID, lsn=0)
    with pytest.raises(SourceError, match="now has columns the mirror does not know: secret"):
        applier.handle(gained)
    lost = RELATION._replace(columns=RELATION.columns[:-1])
    with pytest.raises(SourceError, match="now lacks the columns deleted_at"):
        applier.handle(lost)
    tolerant = Applier(mirror, "sellers", TABLE_ID, lsn=0, ignore_unknown_columns=True)
    applied(tolerant, gained, *transaction(10, Insert(TABLE_ID, row("a") + ["hidden"])))
    tolerant.commit()
    assert set(rows(mirror)) == {"a"}
