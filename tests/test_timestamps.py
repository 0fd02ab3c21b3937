"""The mirror's one timestamp rule: ISO-8601 UTC, six fractional digits, text order = time order."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datasette_seller_export.mirror.timestamps import (
    WIDTH,
    canonical,
    format_utc,
    from_postgres_utc,
)


@pytest.mark.parametrize(
    "written,stored",
    [
        # What psql writes in a session whose time zone is Europe/Berlin, across the change
        # to summer time on 31 March 2024 (the three rows), and in UTC.
        ("2024-03-31 03:10:00+02", "2024-03-31T01:10:00.000000Z"),
        ("2024-03-31 01:30:00+01", "2024-03-31T00:30:00.000000Z"),
        ("2024-03-31 00:45:00+00", "2024-03-31T00:45:00.000000Z"),
        # PostgreSQL trims trailing zeros of the fraction.
        ("2024-03-31 00:45:00.12+00", "2024-03-31T00:45:00.120000Z"),
        ("2024-03-31 00:45:00.123+00", "2024-03-31T00:45:00.123000Z"),
        ("2024-03-31 00:45:00.123456+00", "2024-03-31T00:45:00.123456Z"),
        # Digits past the microsecond are cut.
        ("2024-03-31T00:45:00.1234567891Z"[:-2] + "Z", "2024-03-31T00:45:00.123456Z"),
        ("2024-03-31T00:45:00Z", "2024-03-31T00:45:00.000000Z"),
        ("2024-03-31T00:45Z", "2024-03-31T00:45:00.000000Z"),
        ("2024-03-31t00:45:00z".replace("t", "T"), "2024-03-31T00:45:00.000000Z"),
        ("2024-03-31 00:45:00", "2024-03-31T00:45:00.000000Z"),  # no offset: UTC
        ("2024-03-31T05:45:00+05:30", "2024-03-31T00:15:00.000000Z"),
        ("2024-03-31T05:45:00+0530", "2024-03-31T00:15:00.000000Z"),
        ("2024-03-30T20:45:00.5-03:30", "2024-03-31T00:15:00.500000Z"),
        ("2024-01-01 00:30:00+01", "2023-12-31T23:30:00.000000Z"),  # across a year
        ("1912-01-01 00:00:00+05:53:28", "1911-12-31T18:06:32.000000Z"),  # a historic offset
        ("2024-03-31T01:10:00.000000Z", "2024-03-31T01:10:00.000000Z"),  # already canonical
        (" 2024-03-31 00:45:00+00 ", "2024-03-31T00:45:00.000000Z"),
        ("2024-03-31 00:45:00.1234567+00", "2024-03-31T00:45:00.123456Z"),
    ],
)
def test_timestamps_are_stored_in_utc_with_six_digits(written, stored):
    assert canonical(written) == stored
    assert len(stored) == WIDTH


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "2024-03-31",  # a date has no time of day
        "2024-02-30T00:00:00Z",  # no such day
        "2024-02-30T00:00:00.000000Z",  # ... even in the canonical form
        "2024-03-31T24:00:00Z",
        "2024-03-31T00:45:00+2",
        "infinity",
        "0044-03-15 12:00:00+00 BC",
        "12345-03-15 12:00:00+00",
        "0001-01-01 00:10:00+01",  # before year 1 in UTC
        "2024-03-31T00:45:00Z trailing",
        "2024-W13-1 03:10:00+00",  # an ISO week date, which fromisoformat takes
        "2024-03-31 03:10:00.+00",
        "2024-03-31 03:1x:00+00",
        1711846800,
    ],
)
def test_what_is_not_a_timestamp_is_refused(value):
    with pytest.raises(ValueError, match="is not a timestamp"):
        canonical(value)


MOMENTS = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(None)
)
ZONES = st.sampled_from(
    ["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham"]
)


def _as_postgres_writes_it(moment, zone):
    """`moment` (naive UTC) as psql shows a timestamptz in time zone `zone`."""
    local = moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(zone))
    text = local.strftime("%Y-%m-%d %H:%M:%S")
    if local.microsecond:
        text += f".{local.microsecond:06d}".rstrip("0")
    offset = local.utcoffset()
    sign = "-" if offset < timedelta(0) else "+"
    seconds = abs(int(offset.total_seconds()))
    text += f"{sign}{seconds // 3600:02d}"
    if seconds % 3600:
        text += f":{seconds % 3600 // 60:02d}"
    if seconds % 60:  # old local times, such as St John's before 1935
        text += f":{seconds % 60:02d}"
    return text


@given(st.lists(st.tuples(MOMENTS, ZONES), min_size=2, max_size=20))
def test_text_order_is_time_order_whatever_the_offsets_and_fractions(moments):
    stored = [canonical(_as_postgres_writes_it(moment, zone)) for moment, zone in moments]
    assert [format_utc(moment) for moment, _ in moments] == stored
    assert sorted(stored) == [format_utc(m) for m in sorted(m for m, _ in moments)]


def test_format_utc_converts_aware_datetimes():
    berlin = datetime(2024, 3, 31, 3, 10, tzinfo=ZoneInfo("Europe/Berlin"))
    assert format_utc(berlin) == "2024-03-31T01:10:00.000000Z"


def postgres_utc_text(moment):
    """A timestamptz as PostgreSQL writes it in a session in UTC: the fraction trimmed."""
    text = f"{moment.year:04d}-{moment:%m-%d %H:%M:%S}"
    if moment.microsecond:
        text += f".{moment.microsecond:06d}".rstrip("0")
    return text + "+00"


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
def test_the_streams_timestamps_take_the_quick_path_to_the_same_value(moment):
    text = postgres_utc_text(moment)
    assert from_postgres_utc(text) == canonical(text) == format_utc(moment)


@pytest.mark.parametrize(
    "value", ["infinity", "-infinity", "0044-03-15 12:00:00+00 BC", "10000-01-01 00:00:00+00"]
)
def test_the_quick_path_refuses_what_the_mirror_cannot_hold(value):
    with pytest.raises(ValueError):
        from_postgres_utc(value)
