"""The one rule for the mirror's timestamps: ISO-8601 UTC, always six fractional digits.

`2024-03-31T01:10:00.000000Z`: 27 characters, every value the same width, so that comparing
the text (which is how SQLite orders `created_at`) is comparing the times. PostgreSQL's own
output is not like that: it writes the session's time zone (`03:10:00+02`) and trims the
fraction (`.12`, `.123`), and either breaks the order. Six digits are PostgreSQL's resolution,
so nothing it stores is lost. Every writer of the mirror (`sync`, `import`, `demo`) stores
values through `canonical`.
"""

import functools
import re
from datetime import datetime, timedelta, timezone

WIDTH = 27
# The same format for PostgreSQL's to_char (with the session in UTC), so that a sync gets
# canonical values from the server and only checks them here.
POSTGRES_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
# A canonical value, as SQLite's GLOB sees it: for finding the rows a mirror written before
# this rule holds in another form.
CANONICAL_GLOB = (
    "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
    ".[0-9][0-9][0-9][0-9][0-9][0-9]Z"
)

_CANONICAL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", re.ASCII)
# What PostgreSQL, psql and people write: a space or a T, seconds and fraction optional, a
# fraction of up to nine digits, an offset as Z, +HH, +HHMM, +HH:MM or +HH:MM:SS (PostgreSQL
# writes seconds for historic local times), or none at all (then the time is UTC).
_TIMESTAMP = re.compile(
    r"\s*(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?"
    r"\s*(?:([Zz])|([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?\s*",
    re.ASCII,
)


def canonical(value: str) -> str:
    """`value`, a timestamp as text, in the mirror's form; ValueError if it is not one."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a timestamp: a timestamp is text")
    if _CANONICAL.fullmatch(value):
        return _real_moment(value)
    postgres = _POSTGRES.fullmatch(value)
    # PostgreSQL's own form (`\copy`, psql), the commonest in a dump, is taken apart by a
    # simpler pattern than the general one; both give the local time and its offset.
    match = postgres or _TIMESTAMP.fullmatch(value)
    if match is None:
        raise ValueError(f"{value!r} is not a timestamp (write it as 2024-03-31T01:10:00Z)")
    if postgres:
        date, time_, fraction, offset = match.groups()
        shift = _postgres_offset(offset)
    else:
        year, month, day, hour, minute, second, fraction, _, sign, *offset = match.groups()
        date, time_ = f"{year}-{month}-{day}", f"{hour}:{minute}:{second or '00'}"
        shift = _offset(sign, *offset) if sign else _NO_SHIFT
    # Digits past microseconds are cut.
    local = _checked(f"{date}T{time_}.{(fraction or '')[:6]:0<6}Z", value)
    if not shift:
        return local
    try:
        return format_utc(datetime.fromisoformat(local[:26]) - shift)
    except OverflowError:
        raise ValueError(f"{value!r} is not a timestamp (out of range in UTC)") from None


_NO_SHIFT = timedelta(0)
_POSTGRES = re.compile(
    r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?([+-]\d\d(?::\d\d){0,2})"
)


@functools.lru_cache(maxsize=64)
def _postgres_offset(text):
    """PostgreSQL's +HH[:MM[:SS]] as a timedelta."""
    sign, hours, minutes, seconds = text[0], text[1:3], text[4:6], text[7:9]
    return _offset(sign, hours, minutes, seconds)


@functools.lru_cache(maxsize=64)
def _offset(sign, hours, minutes, seconds):
    """+HH:MM:SS as a timedelta; a dump holds few distinct offsets, so each is made once."""
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0), seconds=int(seconds or 0))
    return offset if sign == "+" else -offset


def _checked(text, value=None):
    """`text`, built in the mirror's form, if it is that form and names a real moment (not
    30 February; not an ISO week date, which fromisoformat would also take)."""
    if not _CANONICAL.fullmatch(text):
        raise ValueError(f"{value!r} is not a timestamp (write it as 2024-03-31T01:10:00Z)")
    return _real_moment(text, value)


def _real_moment(text, value=None):
    try:
        datetime.fromisoformat(text[:26])
    except ValueError as error:
        raise ValueError(f"{value or text!r} is not a timestamp ({error})") from None
    return text


def from_postgres_utc(value: str) -> str:
    """A timestamptz as PostgreSQL writes it in a session in UTC (`2024-03-31 01:10:00.12+00`,
    years 1 to 9999), in the mirror's form by slicing; any other text through `canonical`
    (which refuses infinity, BC and years past 9999)."""
    if len(value) >= 22 and value[10] == " " and value[19] in ".+" and value.endswith("+00"):
        return f"{value[:10]}T{value[11:19]}.{value[20:-3]:0<6}Z"
    return canonical(value)


def format_utc(moment: datetime) -> str:
    """A naive datetime in UTC (or an aware one, converted), in the mirror's form."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    # isoformat() leaves out a zero fraction, and is faster without its timespec argument.
    return moment.isoformat() + ("Z" if moment.microsecond else ".000000Z")
