"""The SQL encoders write exactly what Python's csv and json modules write, value by value."""

import csv
import io
import json
import math
import sqlite3
from datetime import datetime

import pyarrow
import pyarrow.parquet
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from datasette_seller_export.engine.encoders import (
    ROW_ENCODINGS,
    csv_cell_sql,
    json_object_sql,
    json_value_sql,
    row_sql,
)
from datasette_seller_export.engine.functions import real_text, register_functions
from datasette_seller_export.engine.schema import (
    ANY_VALUES,
    COLUMN_TYPES,
    EXPORTED_COLUMNS,
    STRICT_SUPPORTED,
    ValueRules,
    create_table_sql,
)

# Text as SQLite can store it (no lone surrogates), every control character included.
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
values = st.one_of(
    st.none(),
    texts,
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)


@pytest.fixture(scope="module")
def conn():
    connection = sqlite3.connect(":memory:")
    register_functions(connection)
    yield connection
    connection.close()


def sql_of(conn, expression, value):
    return conn.execute(f"SELECT {expression} FROM (SELECT ? AS v)", (value,)).fetchone()[0]


def python_csv_field(value, escape_formulas=True):
    if value is None:
        value = ""
    elif (
        isinstance(value, str) and escape_formulas and value[:1] in ("=", "+", "-", "@", "\t", "\r")
    ):
        value = "'" + value
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([value, ""])  # two fields: no lone-"" quirk
    return out.getvalue()[: -len(",\r\n")]


@settings(max_examples=400, deadline=None)
@given(value=values, escape=st.booleans(), nul_safe=st.booleans())
def test_csv_cell_matches_python_csv(conn, value, escape, nul_safe):
    # The fast cell (GLOB looks for the quote triggers) is only used on rows without a NUL.
    assume(nul_safe or not (isinstance(value, str) and "\x00" in value))
    assert sql_of(conn, csv_cell_sql("v", escape, nul_safe), value) == python_csv_field(
        value, escape
    )


@settings(max_examples=400, deadline=None)
@given(value=values)
def test_json_value_matches_json_dumps(conn, value):
    expected = json.dumps(value, ensure_ascii=False)
    assert sql_of(conn, json_value_sql("v"), value) == expected


@pytest.mark.parametrize(
    "character", [chr(code) for code in range(0, 0x80)] + ["\u2028", "\x85", "é", "😀"]
)
def test_every_ascii_character_in_json_and_csv(conn, character):
    value = f"a{character}b"
    assert sql_of(conn, json_value_sql("v"), value) == json.dumps(value, ensure_ascii=False)
    assert sql_of(conn, csv_cell_sql("v"), value) == python_csv_field(value)


@pytest.mark.parametrize(
    "value",
    [
        0.0,
        -0.0,
        0.1 + 0.2,
        1 / 3,
        1e-05,
        1e-4,
        0.0001,
        99.9,
        100.0,
        1e14,
        1e15,
        1e16,
        1e300,
        5e-324,
        123456789012345.6,
        -87.25,
        2.5e15,
    ],
)
def test_floats_are_written_with_their_shortest_round_trip_digits(conn, value):
    assert sql_of(conn, json_value_sql("v"), value) == repr(value)
    assert float(sql_of(conn, csv_cell_sql("v"), value)) == value


def test_infinity_is_written_as_a_number_json_reads_back_as_infinity(conn):
    assert real_text(math.inf) == "1e999" and real_text(-math.inf) == "-1e999"
    assert json.loads(sql_of(conn, json_value_sql("v"), math.inf)) == math.inf


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_prefix_is_guarded_in_text_but_never_in_numbers(conn, prefix):
    guarded = sql_of(conn, csv_cell_sql("v"), prefix + "1+2")
    assert guarded.lstrip('"').startswith("'" + prefix)
    assert (
        sql_of(conn, csv_cell_sql("v", escape_formulas=False), prefix + "x").lstrip('"')[0]
        == prefix
    )
    assert sql_of(conn, csv_cell_sql("v"), -5) == "-5"
    assert sql_of(conn, csv_cell_sql("v"), -5.5) == "-5.5"


@pytest.mark.parametrize(
    "stored,csv_text,json_text", [(1, "true", "true"), (0, "false", "false"), (None, "", "null")]
)
def test_flagged_is_a_boolean(conn, stored, csv_text, json_text):
    row = conn.execute(
        f"SELECT {csv_cell_sql('flagged')}, {json_value_sql('flagged')} FROM (SELECT ? AS flagged)",
        (stored,),
    ).fetchone()
    assert row == (csv_text, json_text)


def test_json_object_has_the_exported_keys_in_order(conn):
    columns = ", ".join(f"? AS {c}" for c in EXPORTED_COLUMNS)
    params = ["n", "nn", "ebay", "p1", 3, 98.5, 10, 1, "2025-01-01T00:00:00Z"]
    text = conn.execute(f"SELECT {json_object_sql()} FROM (SELECT {columns})", params).fetchone()[0]
    assert list(json.loads(text)) == list(EXPORTED_COLUMNS)
    assert json.loads(text)["flagged"] is True


@pytest.mark.parametrize(
    "name", ["nul\x00inside", "\x00", "end\x00", "a\x00,b", '\x00"', "=\x00\n"]
)
def test_a_nul_character_never_truncates_a_csv_line(conn, name):
    """printf's %s stops at NUL; a row holding one must still be written whole."""
    from datasette_seller_export.engine.encoders import csv_line_sql

    columns = ", ".join(f"? AS {c}" for c in EXPORTED_COLUMNS)
    params = [name, "n", "ebay", "p", 1, 2.5, 3, 0, "2025"]
    line = conn.execute(f"SELECT {csv_line_sql()} FROM (SELECT {columns})", params).fetchone()[0]
    assert (
        line
        == (
            ",".join([python_csv_field(name), "n", "ebay", "p", "1", "2.5", "3", "false", "2025"])
            + "\r\n"
        ).encode()
    )


# Each exported column's values as a STRICT table holds them: its declared type, or NULL.
def strict_rows(text):
    return st.fixed_dictionaries(
        {
            column: st.one_of(
                st.none(),
                {
                    str: text,
                    int: st.integers(-(2**63), 2**63 - 1),
                    float: st.floats(allow_nan=False),
                }[COLUMN_TYPES[column]],
            )
            for column in EXPORTED_COLUMNS
        }
    )


def strict_table(checks):
    """A STRICT sellers table in memory: the plugin's, with its NUL checks, or without them."""
    connection = sqlite3.connect(":memory:")
    register_functions(connection)
    if checks:
        connection.execute(create_table_sql("sellers", strict=True))
    else:  # the declared types of a loose mirror are STRICT's too
        connection.execute(create_table_sql("sellers", strict=False) + " STRICT")
    return connection


def fill(conn, rows):
    """`conn`, its sellers table holding just `rows` (the exported columns), ids in order."""
    conn.execute("DELETE FROM sellers")
    conn.executemany(
        f"INSERT INTO sellers (id, org_id, {', '.join(EXPORTED_COLUMNS)})"
        f" VALUES (?, 'o', {', '.join('?' * len(EXPORTED_COLUMNS))})",
        [(str(i), *(row[c] for c in EXPORTED_COLUMNS)) for i, row in enumerate(rows)],
    )
    return conn


@pytest.fixture(scope="module")
def strict_tables():
    tables = {checks: strict_table(checks) for checks in (True, False)}
    yield tables
    for connection in tables.values():
        connection.close()


@pytest.mark.skipif(not STRICT_SUPPORTED, reason="STRICT tables need SQLite 3.37")
@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    nul_free=st.booleans(),
    fmt=st.sampled_from(ROW_ENCODINGS),
    escape=st.booleans(),
    columns=st.lists(st.sampled_from(EXPORTED_COLUMNS), min_size=1, unique=True),
)
def test_rows_of_a_strict_table_equal_the_general_ones(
    strict_tables, data, nul_free, fmt, escape, columns
):
    """What a table's rules leave unchecked changes no byte: a STRICT table's rows (typed),
    and a mirror's, which holds no NUL (typed and nul_free), encode as any table's do."""
    text = texts.filter(lambda t: "\x00" not in t) if nul_free else texts
    rows = data.draw(st.lists(strict_rows(text), min_size=1, max_size=4))
    columns = tuple(c for c in EXPORTED_COLUMNS if c in columns)
    conn = fill(strict_tables[nul_free], rows)
    rules = ValueRules(typed=True, nul_free=nul_free)
    general, ruled = (
        conn.execute(
            f"SELECT {row_sql(fmt, escape, columns, r)} FROM sellers ORDER BY id"
        ).fetchall()
        for r in (ANY_VALUES, rules)
    )
    assert ruled == general


@pytest.mark.skipif(not STRICT_SUPPORTED, reason="STRICT tables need SQLite 3.37")
def test_a_mirror_refuses_a_nul_character_and_says_where(strict_tables):
    with pytest.raises(sqlite3.IntegrityError, match="display_name holds no NUL character"):
        strict_tables[True].execute(
            "INSERT INTO sellers (id, org_id, display_name) VALUES ('n', 'o', 'a' || char(0))"
        )


moments = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31))


@pytest.mark.skipif(not STRICT_SUPPORTED, reason="STRICT tables need SQLite 3.37")
@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    nul_free=st.booleans(),
    columns=st.lists(st.sampled_from(EXPORTED_COLUMNS), min_size=1, unique=True),
)
def test_a_parquet_file_holds_every_value_as_it_is(strict_tables, data, nul_free, columns):
    """The arrow_csv rows, parsed into a Parquet file, come back value for value: NULL apart
    from empty text, floats exact, flagged a boolean, created_at a UTC moment."""
    columns = tuple(c for c in EXPORTED_COLUMNS if c in columns)
    from datasette_seller_export.engine.parquet import ParquetFile

    text = texts.filter(lambda t: "\x00" not in t) if nul_free else texts
    moment = st.one_of(st.none(), moments.map(lambda m: m.isoformat(timespec="microseconds") + "Z"))
    rows = data.draw(
        st.lists(
            strict_rows(text).flatmap(
                lambda row: st.fixed_dictionaries(
                    {"flagged": st.sampled_from([None, 0, 1]), "created_at": moment}
                ).map(lambda typed: {**row, **typed})
            ),
            min_size=1,
            max_size=4,
        )
    )
    conn = fill(strict_tables[nul_free], rows)
    rules = ValueRules(typed=True, nul_free=nul_free)
    sql = row_sql("arrow_csv", True, columns, rules)
    encoded = b"".join(r[0] for r in conn.execute(f"SELECT {sql} FROM sellers ORDER BY id"))
    document = ParquetFile(columns)
    body = document.begin() + document.add(encoded, len(rows)) + document.end()
    table = pyarrow.parquet.read_table(pyarrow.BufferReader(body))

    def expected(column, value):
        if value is None:
            return None
        if column == "flagged":
            return bool(value)
        if column == "created_at":
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        return value

    assert table.column_names == list(columns)
    for column in columns:
        assert table.column(column).to_pylist() == [expected(column, r[column]) for r in rows]
