import os
import random
import socket
import urllib.parse

import pytest
import pytest_asyncio
import sqlite_utils
from click.testing import CliRunner
from datasette.app import Datasette
from datasette.cli import cli
from datasette.plugins import pm

from datasette_seller_export.engine.schema import ensure_table
from datasette_seller_export.testing.server import Server

# datasette-gzip is installed for the test that serves it beside this plugin (see
# testing/server.OPT_IN_PLUGINS); in process, as in every other server, it stays out.
if pm.get_plugin("gzip") is not None:
    pm.unregister(name="gzip")

HERE = os.path.dirname(__file__)
REPO = os.path.dirname(HERE)
ROOT = {"id": "root"}

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


def build_sellers_db(path, org_sizes, seed=0, deleted_per_org=3):
    """A mirror at `path` with `org_sizes[org]` live sellers per org, plus soft-deleted ones."""
    rng = random.Random(seed)
    rows = []
    for org_id, size in org_sizes.items():
        rows += [seller(rng, org_id, number) for number in range(size)]
        rows += [seller(rng, org_id, size + n, deleted=True) for n in range(deleted_per_org)]
    rng.shuffle(rows)
    db = sqlite_utils.Database(str(path))
    ensure_table(db)
    with db.atomic():
        db["sellers"].insert_all(rows, batch_size=500)
    db.close()
    return str(path)


@pytest.fixture
def sellers_db(tmp_path):
    return build_sellers_db(
        tmp_path / "sellers.db",
        {"org-a": 250, "org-b": 40, "org-one": 1, "org-empty": 0, 'org/with "odd" id\r\n': 3},
    )


@pytest_asyncio.fixture
async def make_datasette():
    """Datasette instances on real files, started, and closed after the test."""
    instances = []

    async def make(
        *paths, plugin_config=None, config=None, metadata=None, root=False, settings=None
    ):
        config = dict(config or {})
        if plugin_config is not None:
            config.setdefault("plugins", {})["datasette-seller-export"] = plugin_config
        ds = Datasette([str(p) for p in paths], config=config, metadata=metadata, settings=settings)
        ds.root_enabled = root
        await ds.invoke_startup()
        instances.append(ds)
        return ds

    yield make
    for ds in instances:
        ds.close()


@pytest_asyncio.fixture
async def ds(make_datasette, sellers_db):
    return await make_datasette(sellers_db, root=True)


def check_link(body, response, rel):
    """`rel`'s token, URL and Link header agree; returns the URL's path and query, or None."""
    links = response.headers.get("link", "")
    if body[rel] is None:
        assert body[f"{rel}_url"] is None and f'rel="{rel}"' not in links
        return None
    assert f'<{body[f"{rel}_url"]}>; rel="{rel}"' in links
    parsed = urllib.parse.urlsplit(body[f"{rel}_url"])
    assert dict(urllib.parse.parse_qsl(parsed.query))["_next"] == body[rel]
    return parsed.path + "?" + parsed.query


async def page_through(ds, query, actor=ROOT, limit=10_000, rel="next", path=None):
    """Follow `rel` (`next`, or `prev` from `path`) from the first page to the last; return
    (rows, pages), each page's rows in the order the page shows them."""
    rows, pages, path = [], [], path or f"/-/sellers.json?{query}"
    while path and len(pages) < limit:
        response = await ds.client.get(path, actor=actor)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ok"] is True
        assert set(body) == {"ok", "rows", "next", "next_url", "prev", "prev_url"}
        if not pages and rel == "next":
            assert body["prev"] is None  # the first page has none before it
        rows = rows + body["rows"] if rel == "next" else body["rows"] + rows
        pages.append(response)
        other = check_link(body, response, "prev" if rel == "next" else "next")
        if len(pages) > 1:
            assert other is not None  # every page but the first has a way back
        path = check_link(body, response, rel)
    return rows, pages


def run_cli(*args):
    """`datasette seller-export ARGS...` through Datasette's own command line, in process."""
    return CliRunner().invoke(
        cli, ["seller-export", *[str(a) for a in args]], catch_exceptions=False
    )


@pytest.fixture
def serve(tmp_path):
    servers = []

    def start(*args, env_extra=None):
        server = Server(list(args), tmp_path / f"server-{len(servers)}.log", env_extra)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def raw_get(server, path, actor, read_chunks=None, headers=(), method="GET"):
    """A request over a raw socket, the chunked body decoded by hand and nothing else (no
    content coding undone): `(status, headers, chunks, complete)`. With `read_chunks`, hang
    up after that many chunks; `headers` are more request headers, as (name, value) pairs."""
    cookie = "ds_actor=" + server.cookies(actor)["ds_actor"]
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", f"Cookie: {cookie}"]
    lines += [f"{name}: {value}" for name, value in headers]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    reader = sock.makefile("rb")
    status = int(reader.readline().split()[1])
    answer = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        answer[name.lower()] = value.strip()
    chunks, complete = [], method == "HEAD"
    if not complete and "content-length" in answer:  # a body sent whole, not chunked
        chunks.append(reader.read(int(answer["content-length"])))
        complete = len(chunks[0]) == int(answer["content-length"])
    try:
        while not complete and (read_chunks is None or len(chunks) < read_chunks):
            size_line = reader.readline()
            if not size_line:
                break  # the server closed the connection mid-body
            size = int(size_line.strip(), 16)
            if size == 0:
                complete = reader.readline() == b"\r\n"
                break
            chunks.append(reader.read(size))
            reader.readline()
    finally:
        reader.close()
        sock.close()
    return status, answer, chunks, complete
