"""PostgreSQL's `pgoutput` messages, protocol version 1, decoded: what `sync --follow` reads
from its replication slot.

The format is PostgreSQL's own ("Logical Replication Message Formats" in its documentation):
a transaction is a Begin, its changes and a Commit, never interleaved with another's (version
1 sends a transaction only once it has committed). A Relation describes a table's columns
before the first change that uses it, and again after its columns change. Values come in the
type's text output, as the walsender's session formats them (its TimeZone for timestamps).

Only what a mirror needs is decoded; Origin and Type messages (and any kind a newer server
may add) come back as None, to be skipped. No third-party decoder is maintained (the PyPI ones
are a 2022 0.0.3 and a single 0.1.0), and version 1 is small enough to read here in full.
"""

import struct
from typing import NamedTuple

_INT16 = struct.Struct("!h")
_INT32 = struct.Struct("!i")
_BEGIN = struct.Struct("!qqI")  # final LSN, commit time, xid
_COMMIT = struct.Struct("!bqqq")  # flags, commit LSN, end LSN, commit time
_RELATION_ID = struct.Struct("!I")
_COLUMN_TYPE = struct.Struct("!Ii")  # type OID, type modifier
# PostgreSQL counts time in microseconds from 2000-01-01 UTC; Unix from 1970.
POSTGRES_EPOCH_UNIX = 946_684_800

# A value an update left as it was, which the message does not repeat (a TOASTed text).
UNCHANGED = type("Unchanged", (), {"__repr__": lambda self: "UNCHANGED"})()


class DecodeError(ValueError):
    """A message this decoder cannot read."""


class Begin(NamedTuple):
    final_lsn: int  # where the transaction's commit record starts
    commit_time: float  # Unix seconds
    xid: int


class Commit(NamedTuple):
    commit_lsn: int
    end_lsn: int  # where the commit record ends: the position to confirm and resume from
    commit_time: float


class Column(NamedTuple):
    name: str
    type_oid: int
    is_key: bool  # part of the replica identity, so present in an old key tuple


class Relation(NamedTuple):
    relation_id: int
    namespace: str
    name: str
    replica_identity: str  # d(efault), n(othing), f(ull), i(ndex)
    columns: tuple


class Insert(NamedTuple):
    relation_id: int
    new: list


class Update(NamedTuple):
    relation_id: int
    old: list | None  # the old key ('K') or whole row ('O'), when the key changed or FULL
    new: list


class Delete(NamedTuple):
    relation_id: int
    old: list


class Truncate(NamedTuple):
    relation_ids: tuple


def format_lsn(lsn: int) -> str:
    """An LSN as PostgreSQL writes it: `16/B374D848`."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def _unix(postgres_microseconds):
    return postgres_microseconds / 1_000_000 + POSTGRES_EPOCH_UNIX


def _string(data, pos):
    end = data.index(0, pos)
    return data[pos:end].decode(), end + 1


def _tuple(data, pos):
    """A TupleData at `pos`: its values (str, None for NULL, UNCHANGED) and where it ends."""
    (count,) = _INT16.unpack_from(data, pos)
    pos += 2
    values = []
    append = values.append
    for _ in range(count):
        kind = data[pos]
        pos += 1
        if kind == 116:  # t: text
            (length,) = _INT32.unpack_from(data, pos)
            pos += 4
            append(data[pos : pos + length].decode())
            pos += length
        elif kind == 110:  # n: NULL
            append(None)
        elif kind == 117:  # u: unchanged TOASTed value
            append(UNCHANGED)
        else:  # b (binary) comes only with the `binary` option, which is never asked for
            raise DecodeError(f"a value of kind {chr(kind)!r} in a tuple")
    return values, pos


def _relation(data):
    (relation_id,) = _RELATION_ID.unpack_from(data, 1)
    namespace, pos = _string(data, 5)
    name, pos = _string(data, pos)
    identity = chr(data[pos])
    (count,) = _INT16.unpack_from(data, pos + 1)
    pos += 3
    columns = []
    for _ in range(count):
        flags = data[pos]
        column, pos = _string(data, pos + 1)
        type_oid, _ = _COLUMN_TYPE.unpack_from(data, pos)
        pos += 8
        columns.append(Column(column, type_oid, bool(flags & 1)))
    return Relation(relation_id, namespace, name, identity, tuple(columns))


def _update(data):
    (relation_id,) = _RELATION_ID.unpack_from(data, 1)
    old = None
    pos = 5
    if data[pos] in b"KO":
        old, pos = _tuple(data, pos + 1)
    if data[pos] != ord("N"):
        raise DecodeError(f"an update without its new tuple ({chr(data[pos])!r})")
    new, _ = _tuple(data, pos + 1)
    return Update(relation_id, old, new)


def _truncate(data):
    (count,) = _INT32.unpack_from(data, 1)
    ids = struct.unpack_from(f"!{count}I", data, 6)  # after the count and one byte of options
    return Truncate(ids)


def _begin(data):
    final_lsn, commit_time, xid = _BEGIN.unpack_from(data, 1)
    return Begin(final_lsn, _unix(commit_time), xid)


def _commit(data):
    _, commit_lsn, end_lsn, commit_time = _COMMIT.unpack_from(data, 1)
    return Commit(commit_lsn, end_lsn, _unix(commit_time))


def _insert(data):
    (relation_id,) = _RELATION_ID.unpack_from(data, 1)
    if data[5] != ord("N"):
        raise DecodeError(f"an insert without its new tuple ({chr(data[5])!r})")
    return Insert(relation_id, _tuple(data, 6)[0])


def _delete(data):
    (relation_id,) = _RELATION_ID.unpack_from(data, 1)
    if data[5] not in b"KO":
        raise DecodeError(f"a delete without its old tuple ({chr(data[5])!r})")
    return Delete(relation_id, _tuple(data, 6)[0])


_DECODERS = {
    ord("B"): _begin,
    ord("C"): _commit,
    ord("R"): _relation,
    ord("I"): _insert,
    ord("U"): _update,
    ord("D"): _delete,
    ord("T"): _truncate,
}


def decode(data: bytes):
    """One message's payload as a Begin, Commit, Relation, Insert, Update, Delete or
    Truncate; None for a kind the mirror has no use for (Origin, Type)."""
    decoder = _DECODERS.get(data[0]) if data else None
    if decoder is None:
        return None
    try:
        return decoder(data)
    except (struct.error, IndexError, UnicodeDecodeError, ValueError) as error:
        if isinstance(error, DecodeError):
            raise
        raise DecodeError(f"a {chr(data[0])!r} message cut short or malformed: {error}") from None
