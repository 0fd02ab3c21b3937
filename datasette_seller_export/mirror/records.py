"""A seller record as every reader of production data hands it to the writer: a list of every
column's value, in `COLUMNS` order, typed as the mirror's schema says.

Two sources of values: text (CSV dumps, PostgreSQL's COPY), where None is NULL, and JSON,
whose values are typed already. Both go through the same checks, so a dump and a sync refuse
the same records with the same messages.
"""

import math

from ..engine.schema import COLUMN_TYPES, TIMESTAMP_COLUMNS
from .timestamps import canonical

COLUMNS = tuple(COLUMN_TYPES)
_TRUE = {"t", "true", "1"}
_FALSE = {"f", "false", "0"}


class RecordError(Exception):
    """A record the mirror cannot take; `where` names it (`record 12`, `id 'abc'`)."""

    def __init__(self, where, message):
        super().__init__(f"{where}: {message}" if where else message)


def check_columns(names, where=None):
    """A source must have every column of the table, and no other."""
    unknown = [name for name in names if name not in COLUMN_TYPES]
    missing = [column for column in COLUMNS if column not in names]
    if unknown:
        raise RecordError(
            where,
            f"unknown columns {', '.join(map(repr, unknown))}: "
            f"the sellers table has {', '.join(COLUMNS)}",
        )
    if missing:
        raise RecordError(
            where, f"missing columns {', '.join(missing)}: a dump holds every column of the table"
        )


def _number(kind):
    noun = "a whole number" if kind is int else "a number"

    def from_text(column, value):
        try:
            number = kind(value)
        except (ValueError, OverflowError):
            number = None
        if number is None or (kind is float and not math.isfinite(number)):
            raise ValueError(f"{column} must be {noun}, not {value!r}")
        return number

    def from_json(column, value):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (kind is int and value != int(value))
            or (kind is float and not math.isfinite(value))
        ):
            raise ValueError(f"{column} must be {noun}, not {value!r}")
        return kind(value)

    return from_text, from_json


def _flag_from_text(column, value):
    lowered = value.lower()
    if lowered in _TRUE or lowered in _FALSE:
        return int(lowered in _TRUE)
    raise ValueError(f"{column} must be true or false, not {value!r}")


def _flag_from_json(column, value):
    if isinstance(value, bool) or value in (0, 1):
        return int(value)
    raise ValueError(f"{column} must be true or false, not {value!r}")


def timestamp_value(column, value):
    """`value` of timestamp `column` in the mirror's form, or ValueError naming the column."""
    try:
        return canonical(value)
    except ValueError as error:
        raise ValueError(f"{column}: {error}") from None


def _text(column, value):
    if not isinstance(value, str):
        raise ValueError(f"{column} must be text, not {value!r}")
    return value


def _id_from_json(column, value):
    # A dump of a table with bigint ids writes them as JSON numbers.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _text(column, value)


def _converters(source):
    int_from_text, int_from_json = _number(int)
    float_from_text, float_from_json = _number(float)
    if source == "text":
        return {int: int_from_text, float: float_from_text, "flag": _flag_from_text}
    return {int: int_from_json, float: float_from_json, "flag": _flag_from_json, str: _text}


def conversions(source="text"):
    """(index, column, convert) for each column whose values need converting or checking,
    for `typed`. `source` is "text" (None is NULL) or "json"."""
    converters = _converters(source)
    chosen = []
    for index, (column, kind) in enumerate(COLUMN_TYPES.items()):
        if column in TIMESTAMP_COLUMNS:
            chosen.append((index, column, timestamp_value))
        elif column == "flagged":
            chosen.append((index, column, converters["flag"]))
        elif column == "id" and source == "json":
            chosen.append((index, column, _id_from_json))
        elif kind in converters:
            chosen.append((index, column, converters[kind]))
    return tuple(chosen)


FROM_TEXT = conversions("text")
FROM_JSON = conversions("json")


def typed(values, conversions=FROM_TEXT):
    """`values` (a list in COLUMNS order, changed in place) typed and checked, or ValueError
    naming the column and what is wrong; the caller says which record it was."""
    for index in (0, 1):
        if values[index] is None or values[index] == "":
            state = "missing" if values[index] is None else "empty"
            column = COLUMNS[index]
            raise ValueError(f"{column} is {state}: every seller needs an {column}")
    for index, column, convert in conversions:
        value = values[index]
        if value is not None:
            values[index] = convert(column, value)
    return values
