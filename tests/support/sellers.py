"""Test data: the actors the tests sign in as, and mirrors of sellers made with sqlite-utils,
their internal columns holding values found nowhere else, so that a leak is visible."""

import os
import random

import sqlite_utils

from datasette_seller_export.engine.schema import ensure_table

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOT = {"id": "root"}
# The actor the served configurations (clients.served_config) let read any organisation.
ADMIN = {"id": "admin"}

# Seller names as strangers write them: every character CSV and JSON must take care of.
TRICKY_TEXTS = [
    "Plain Seller",
    "Commas, Inc.",
    'The "Best" Deals',
    "Line one\nLine two",
    "cr\ronly",
    "crlf\r\nboth",
    "=SUM(A1:A9)",
    "+44 Traders",
    "-minus",
    "@handle",
    "\ttab first",
    "\rcr first",
    "Ünïcödé 東京 🛒",
    "O'Brien's",
    "",
    "   ",
    "<script>alert(1)</script>",
    "\x01control\x1f",
    "back\\slash",
    "trailing space ",
    "emoji 👩‍👩‍👧 family",
    "\u2028sep",
]
# Text found only in the rows of a test mirror (see seller()): its internal columns, its
# timestamps and its names. An answer or an event that holds one leaked a row's value.
ROW_MARKERS = (
    "sid-",
    "INTERNAL",
    "1999-01-01",
    "1998-06-06",
    "2025-0",
    "2024-12-31",
    *(text for text in TRICKY_TEXTS if len(text.strip()) > 3),
)

# A handful of created_at values, so that many rows tie on them, and NULL.
CREATED_AT_POOL = [
    "2025-03-01T10:00:00.000000Z",
    "2025-03-01T10:00:00.000000Z",
    "2025-02-28T23:59:59.000000Z",
    "2025-01-15T08:30:00.000000Z",
    "2024-12-31T00:00:00.000000Z",
    None,
]


def seller(rng, org_id, number, deleted=False):
    """One seller row. Internal columns hold values found nowhere else, so a leak is visible."""
    nullable = lambda value: None if rng.random() < 0.15 else value  # noqa: E731
    name = rng.choice(TRICKY_TEXTS)
    return {
        "id": f"sid-{org_id}-{number:05d}-{rng.getrandbits(32):08x}",
        "org_id": org_id,
        "display_name": ("DELETED " + name) if deleted else nullable(name),
        "normalized_name": nullable(name.lower()),
        "platform": nullable(rng.choice(["ebay", "etsy", "amazon", "=cmd|' /C calc'!A0"])),
        "platform_id": nullable(rng.choice([str(rng.randrange(10**6)), "-42", "007"])),
        "times_seen": rng.randrange(1, 1000),
        "feedback_percent": nullable(rng.choice([99.5, 100.0, 0.0, 87.25, 0.1 + 0.2, -3.5, 1e-05])),
        "feedback_count": nullable(rng.randrange(0, 10**6)),
        "flagged": int(rng.random() < 0.3),
        "first_seen_run_id": f"INTERNAL-first-run-{org_id}-{number}",
        "last_seen_run_id": f"INTERNAL-last-run-{org_id}-{number}",
        "created_at": rng.choice(CREATED_AT_POOL),
        "updated_at": f"1999-01-01T00:00:{number % 60:02d}.{number:06d}Z",
        "deleted_at": f"1998-06-06T06:06:{number % 60:02d}.{number:06d}Z" if deleted else None,
    }


def build_sellers_db(path, org_sizes, seed=0, deleted_per_org=3, strict=True):
    """A mirror at `path` with `org_sizes[org]` live sellers per org, plus soft-deleted ones;
    STRICT where SQLite allows, unless `strict` is false (as another writer's may be)."""
    rng = random.Random(seed)
    rows = []
    for org_id, size in org_sizes.items():
        rows += [seller(rng, org_id, number) for number in range(size)]
        rows += [seller(rng, org_id, size + n, deleted=True) for n in range(deleted_per_org)]
    rng.shuffle(rows)
    db = sqlite_utils.Database(str(path))
    ensure_table(db, strict=strict)
    with db.atomic():
        db["sellers"].insert_all(rows, batch_size=500)
    db.close()
    return str(path)
