"""Writing the SQLite mirror: realistic, deterministic demo data."""

import bisect
import itertools
import random
import uuid
from datetime import datetime, timedelta, timezone

from ..engine.schema import quote_identifier
from . import state
from .records import COLUMNS
from .timestamps import format_utc

# The mirror's state names demo as the source of its rows, so that demo can tell a mirror it
# filled from one that holds real sellers.
DEMO_SOURCE = "datasette seller-export demo"

# Seller names as strangers write them: unicode, punctuation that CSV must quote, and
# text a spreadsheet would run as a formula.
_NAME_WORDS = [
    "Acme",
    "Müller",
    "Café",
    "Zoë's",
    "東京",
    "Ørsted",
    "São Paulo",
    "Kraków",
    "Ἀθῆναι",
    "Vintage",
    "Retro",
    "Deals",
    "Outlet",
    "Books",
    "Tools",
    "Garden",
    "Toys",
    "Records",
    "Smith & Sons",
    "Bargain",
    "Boutique",
    "Emporium",
    "🛒 Shop",
    "Ünïcödé",
    "Naïve",
]
_AWKWARD_NAMES = [
    'The "Best" Deals',
    "Commas, Inc.",
    "Line one\nLine two",
    "Carriage\r\nReturn Ltd",
    '=HYPERLINK("http://example.com","click")',
    "+44 Traders",
    "-Minus Store",
    "@handle",
    "\tTabbed",
    "<script>alert('x')</script>",
    "O'Brien's",
    "  padded  ",
    "",
]
PLATFORMS = ["ebay", "amazon", "etsy", "mercari", "poshmark", "depop", "vinted", "facebook"]
_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _org_ids(orgs):
    return [f"org-{number}" for number in range(1, orgs + 1)]


def _cumulative_weights(orgs):
    # A few big organisations and a long tail, as marketplaces have: the biggest holds about
    # half of all sellers when there are twenty organisations.
    return list(itertools.accumulate(1 / rank**1.6 for rank in range(1, orgs + 1)))


def _name(rng):
    roll = rng.random()
    if roll < 0.04:
        return rng.choice(_AWKWARD_NAMES)
    if roll < 0.06:
        return None
    return " ".join(rng.sample(_NAME_WORDS, rng.randint(1, 3)))


def demo_rows(rows, orgs, seed):
    """`rows` seller records (live and soft-deleted) spread over `orgs` organisations, each a
    list in the writer's column order.

    The same arguments always give the same rows. About 1 in 25 is soft-deleted, 1 in 100
    has no created_at, and created_at is kept to the minute over a few months so that many
    rows tie on it.
    """
    rng = random.Random(seed)
    org_ids = _org_ids(orgs)
    weights = _cumulative_weights(orgs)
    minutes = max(rows // 3, 1)
    for _ in range(rows):
        org_id = org_ids[bisect.bisect(weights, rng.random() * weights[-1])]
        created = _EPOCH + timedelta(minutes=rng.randrange(minutes))
        name = _name(rng)
        has_feedback = rng.random() > 0.1
        deleted = rng.random() < 0.04
        record = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "org_id": org_id,
            "display_name": name,
            "normalized_name": " ".join(name.lower().split()) if name is not None else None,
            "platform": rng.choice(PLATFORMS),
            "platform_id": str(rng.randrange(10**9)),
            "times_seen": rng.randint(1, 500),
            "feedback_percent": round(rng.uniform(70, 100), 1) if has_feedback else None,
            "feedback_count": rng.randint(0, 250_000) if has_feedback else None,
            "flagged": int(rng.random() < 0.05),
            "first_seen_run_id": f"run-{rng.getrandbits(48):012x}",
            "last_seen_run_id": f"run-{rng.getrandbits(48):012x}",
            "created_at": None if rng.random() < 0.01 else format_utc(created),
            "updated_at": format_utc(created + timedelta(days=rng.randint(0, 30))),
            "deleted_at": format_utc(created + timedelta(days=31)) if deleted else None,
        }
        yield [record[column] for column in COLUMNS]


def real_rows_problem(db, table):
    """Why demo must not write into `table` (it holds sellers demo did not write), as a
    message that says what to do instead; None when it may."""
    if not db[table].exists():
        return None
    count = db.execute(f"SELECT count(*) FROM {quote_identifier(table)}").fetchone()[0]
    source = state.read(db.conn, table)["source"]
    if count == 0 or source == DEMO_SOURCE:
        return None
    written = f"by {source}" if source else "by something other than demo"
    return (
        f"table {table} holds {count:,} sellers written {written}, and demo would add fake "
        "ones among them; write the demo into a file of its own, e.g. "
        "`datasette seller-export demo demo.db`"
    )
