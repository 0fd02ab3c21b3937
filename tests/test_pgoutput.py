"""The pgoutput decoder on messages as PostgreSQL 15 sent them (captured from a slot of the
tests' cluster), and on messages built here byte by byte for the cases a capture rarely shows."""

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datasette_seller_export.mirror.pgoutput import (
    POSTGRES_EPOCH_UNIX,
    UNCHANGED,
    Begin,
    Commit,
    DecodeError,
    Delete,
    Insert,
    Relation,
    Truncate,
    Update,
    decode,
    format_lsn,
    parse_lsn,
)

# `BEGIN; INSERT INTO sellers (id, org_id, display_name, created_at, flagged) VALUES ('a',
# 'o1', 'Ä x', '2024-01-01 10:00:00.12+02', true); COMMIT;` and what followed, as sent.
CAPTURED_BEGIN = b"B\x00\x00\x00\x00\x01\x93,P\x00\x03\x05\x138\xab\xd3Q\x00\x00\x02\xdb"
CAPTURED_COMMIT = (
    b"C\x00\x00\x00\x00\x00\x01\x93,P\x00\x00\x00\x00\x01\x93,\x80\x00\x03\x05\x138\xab\xd3Q"
)
CAPTURED_INSERT = (
    b"I\x00\x00@\x0eN\x00\x0ft\x00\x00\x00\x01at\x00\x00\x00\x02o1t\x00\x00\x00\x04\xc3\x84 x"
    b"nnnt\x00\x00\x00\x010nnt\x00\x00\x00\x01tnnt\x00\x00\x00\x192024-01-01 08:00:00.12+00"
    b"t\x00\x00\x00\x1d2026-12-08 00:30:43.433413+00n"
)
# UPDATE ... SET id = 'b': the old key first.
CAPTURED_ID_CHANGE = (
    b"U\x00\x00@\x0eK\x00\x0ft\x00\x00\x00\x01annnnnnnnnnnnnnN\x00\x0ft\x00\x00\x00\x01b"
    b"t\x00\x00\x00\x02o1t\x00\x00\x00\x04\xc3\x84 xnnnt\x00\x00\x00\x015t\x00\x00\x00\x05"
    b"97.25nt\x00\x00\x00\x01tnnt\x00\x00\x00\x192024-01-01 08:00:00.12+00t\x00\x00\x00\x1d"
    b"2026-12-08 00:30:43.433413+00n"
)
CAPTURED_DELETE = b"D\x00\x00@\x0eK\x00\x0ft\x00\x00\x00\x01bnnnnnnnnnnnnnn"
CAPTURED_TRUNCATE = b"T\x00\x00\x00\x01\x00\x00\x00@\x0e"
COLUMN_TYPES = [
    ("id", 25),
    ("org_id", 25),
    ("display_name", 25),
    ("normalized_name", 25),
    ("platform", 25),
    ("platform_id", 25),
    ("times_seen", 23),
    ("feedback_percent", 701),
    ("feedback_count", 23),
    ("flagged", 16),
    ("first_seen_run_id", 25),
    ("last_seen_run_id", 25),
    ("created_at", 1184),
    ("updated_at", 1184),
    ("deleted_at", 1184),
]
CAPTURED_RELATION = b"R\x00\x00@\x0epublic\x00sellers\x00d\x00\x0f" + b"".join(
    bytes([name == "id"]) + name.encode() + b"\x00" + struct.pack("!Ii", oid, -1)
    for name, oid in COLUMN_TYPES
)


def test_a_transaction_as_postgresql_sent_it():
    begin = decode(CAPTURED_BEGIN)
    assert isinstance(begin, Begin) and begin.xid == 731
    assert format_lsn(begin.final_lsn) == "0/1932C50"
    commit = decode(CAPTURED_COMMIT)
    assert isinstance(commit, Commit)
    assert commit.commit_lsn == begin.final_lsn and commit.end_lsn == parse_lsn("0/1932C80")
    assert commit.commit_time == begin.commit_time
    assert 1_796_000_000 < commit.commit_time < 1_797_000_000  # December 2026, Unix seconds
    insert = decode(CAPTURED_INSERT)
    assert isinstance(insert, Insert) and insert.relation_id == 16398
    assert insert.new[:3] == ["a", "o1", "Ä x"]
    assert insert.new[6] == "0" and insert.new[9] == "t" and insert.new[3] is None
    assert insert.new[12] == "2024-01-01 08:00:00.12+00" and insert.new[14] is None


def test_a_relation_describes_columns_types_and_the_key():
    relation = decode(CAPTURED_RELATION)
    assert isinstance(relation, Relation)
    assert (relation.relation_id, relation.namespace, relation.name) == (16398, "public", "sellers")
    assert relation.replica_identity == "d"
    assert [(c.name, c.type_oid) for c in relation.columns] == COLUMN_TYPES
    assert [c.name for c in relation.columns if c.is_key] == ["id"]


def test_an_id_change_carries_the_old_key_and_a_delete_only_the_key():
    update = decode(CAPTURED_ID_CHANGE)
    assert isinstance(update, Update)
    assert update.old == ["a"] + [None] * 14 and update.new[0] == "b"
    assert update.new[7] == "97.25"
    delete = decode(CAPTURED_DELETE)
    assert isinstance(delete, Delete) and delete.old == ["b"] + [None] * 14
    assert decode(CAPTURED_TRUNCATE) == Truncate((16398,))


def _tuple(values):
    out = struct.pack("!h", len(values))
    for value in values:
        if value is None:
            out += b"n"
        elif value is UNCHANGED:
            out += b"u"
        else:
            data = value.encode()
            out += b"t" + struct.pack("!i", len(data)) + data
    return out


text_values = st.one_of(st.none(), st.just(UNCHANGED), st.text())


@given(st.lists(text_values, max_size=20), st.lists(text_values, max_size=20))
def test_any_tuple_decodes_to_its_values(old, new):
    assert decode(b"I" + struct.pack("!I", 7) + b"N" + _tuple(new)) == Insert(7, new)
    message = b"U" + struct.pack("!I", 7) + b"O" + _tuple(old) + b"N" + _tuple(new)
    assert decode(message) == Update(7, old, new)
    assert decode(b"U" + struct.pack("!I", 7) + b"N" + _tuple(new)) == Update(7, None, new)
    assert decode(b"D" + struct.pack("!I", 7) + b"K" + _tuple(old)) == Delete(7, old)


def test_a_commit_time_counts_from_postgresqls_epoch():
    message = b"C\x00" + struct.pack("!qqq", 1, 2, 1_500_000)
    assert decode(message).commit_time == POSTGRES_EPOCH_UNIX + 1.5


@pytest.mark.parametrize(
    "message",
    [
        CAPTURED_INSERT[:-3],
        CAPTURED_BEGIN[:10],
        CAPTURED_RELATION[:30],
        b"I\x00\x00\x00\x07X",
        b"I\x00\x00\x00\x07N\x00\x01b\x00\x00\x00\x01x",  # a binary value, never asked for
        b"U\x00\x00\x00\x07K\x00\x00",
        b"D\x00\x00\x00\x07N\x00\x00",
        b"I\x00\x00\x00\x07N\x00\x01t\x00\x00\x00\x02\xff\xfe",
    ],
)
def test_a_cut_or_malformed_message_is_a_decode_error(message):
    with pytest.raises(DecodeError):
        decode(message)


def test_kinds_the_mirror_does_not_need_are_skipped():
    assert decode(b"O" + struct.pack("!q", 5) + b"origin\x00") is None
    assert decode(b"Y" + struct.pack("!I", 5) + b"public\x00mood\x00") is None
    assert decode(b"") is None


@pytest.mark.parametrize("lsn", ["0/0", "0/1932C80", "16/B374D848", "FFFFFFFF/FFFFFFFF"])
def test_lsns_read_and_write_as_postgresql_does(lsn):
    assert format_lsn(parse_lsn(lsn)) == lsn
