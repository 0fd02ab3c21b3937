"""The mirror's readers' pure parts: one line of COPY's text format, and the typing rule."""

import pytest

from datasette_seller_export.mirror.postgres import parse_copy_line
from datasette_seller_export.mirror.records import COLUMNS, FROM_JSON, FROM_TEXT, typed


@pytest.mark.parametrize(
    "line,fields",
    [
        ("a\tb\tc", ["a", "b", "c"]),
        ("a\t\\N\t", ["a", None, ""]),  # NULL is \N; an empty field is the empty string
        ("tab\\there\tline\\nbreak\tcr\\r", ["tab\there", "line\nbreak", "cr\r"]),
        ("back\\\\slash\t\\N", ["back\\slash", None]),
        ("\\\\N\t\\N", ["\\N", None]),  # the text \N, then NULL
        ("\\b\\f\\v\t\\101\\x42", ["\b\f\v", "AB"]),  # escapes COPY FROM takes too
        ("ünï 東京 🛒\t\\N", ["ünï 東京 🛒", None]),
    ],
)
def test_copy_text_lines_are_split_and_unescaped(line, fields):
    assert parse_copy_line(line) == fields


def record(**values):
    base = dict.fromkeys(COLUMNS)
    base.update(id="s1", org_id="o1")
    base.update(values)
    return [base[column] for column in COLUMNS]


def test_text_values_are_typed_as_the_schema_says():
    typed_record = typed(
        record(
            times_seen="12",
            feedback_percent="97.5",
            flagged="t",
            created_at="2024-03-31 03:10:00+02",
        )
    )
    values = dict(zip(COLUMNS, typed_record, strict=True))
    assert values["times_seen"] == 12 and values["feedback_percent"] == 97.5
    assert values["flagged"] == 1 and values["created_at"] == "2024-03-31T01:10:00.000000Z"


@pytest.mark.parametrize(
    "values,conversions,message",
    [
        ({"org_id": None}, FROM_TEXT, "org_id is missing"),
        ({"id": ""}, FROM_TEXT, "id is empty"),
        ({"feedback_percent": "NaN"}, FROM_TEXT, "feedback_percent must be a number, not 'NaN'"),
        ({"feedback_percent": "inf"}, FROM_TEXT, "feedback_percent must be a number"),
        ({"times_seen": "1.5"}, FROM_TEXT, "times_seen must be a whole number"),
        ({"flagged": "maybe"}, FROM_TEXT, "flagged must be true or false"),
        ({"deleted_at": "soon"}, FROM_TEXT, "deleted_at: 'soon' is not a timestamp"),
        ({"times_seen": True}, FROM_JSON, "times_seen must be a whole number"),
        ({"display_name": 5}, FROM_JSON, "display_name must be text"),
        ({"created_at": 1711846800}, FROM_JSON, "created_at: 1711846800 is not a timestamp"),
    ],
)
def test_values_the_schema_does_not_take_are_refused_by_column(values, conversions, message):
    with pytest.raises(ValueError, match=message):
        typed(record(**values), conversions)
