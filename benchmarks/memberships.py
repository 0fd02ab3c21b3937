"""What the membership lookup costs a `/-/sellers.json` request, at 100,000 membership rows.

    python benchmarks/memberships.py                  # about a minute
    python benchmarks/memberships.py --members 1000000

Two mirrors of the same demo sellers: one without a memberships table, whose actor carries its
`org_id`, and one with --members membership rows (10 organisations an actor), whose actor has
only an `id`, as a token's does. It measures, interleaved, the lookup alone (in process, on
Datasette's read connection) and whole `/-/sellers.json?_size=1` requests to a `datasette
serve` of each (urllib, keep-alive off), and prints medians with their spread.
"""

import argparse
import asyncio
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request

from datasette.app import Datasette

from datasette_seller_export import memberships

# The test support (a real server, PostgreSQL, the oracle) is in the repository's tests/.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from support.server import Server, actor_cookie, make_demo_database  # noqa: E402

ORGS_PER_ACTOR = 10
PERMISSIONS = '{"seller_collection.read": {"id": "*"}}'


def add_memberships(path, count):
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(memberships.create_sql(memberships.DEFAULT_TABLE))
        conn.executemany(
            f"INSERT INTO {memberships.DEFAULT_TABLE} VALUES (?, ?)",
            (
                (f"actor-{n // ORGS_PER_ACTOR}", f"org-{n % ORGS_PER_ACTOR + 1}")
                for n in range(count)
            ),
        )
    conn.close()


def spread(values, unit="ms", scale=1000):
    low, middle, high = (f(values) * scale for f in (min, statistics.median, max))
    return f"{middle:.3f} {unit} ({low:.3f}-{high:.3f})"


async def lookup_times(path, actor, calls):
    """Seconds per lookup of `actor`'s memberships, and per bare hop to the read thread."""
    ds = Datasette([path])
    await ds.invoke_startup()
    db = ds.get_database("members")
    lookups, hops = [], []
    for _ in range(calls):
        start = time.perf_counter()
        orgs = await memberships.orgs_in_table(db, memberships.DEFAULT_TABLE, actor)
        lookups.append(time.perf_counter() - start)
        start = time.perf_counter()
        await db.execute_fn(lambda conn: None)
        hops.append(time.perf_counter() - start)
    assert len(orgs) == ORGS_PER_ACTOR, orgs
    ds.close()
    return lookups, hops


def request_time(server, cookie):
    request = urllib.request.Request(
        server.url + "/-/sellers.json?_size=1&org_id=org-1", headers={"Cookie": cookie}
    )
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
        assert response.status == 200
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=int, default=100_000, help="membership rows")
    parser.add_argument("--rows", type=int, default=100_000, help="demo sellers")
    parser.add_argument("--requests", type=int, default=500, help="requests to each server")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="seller-members-bench-")
    plain = os.path.join(work, "plain.db")
    make_demo_database(plain, args.rows, orgs=ORGS_PER_ACTOR, seed=1)
    with_members = os.path.join(work, "members.db")
    shutil.copy(plain, with_members)
    add_memberships(with_members, args.members)
    # An actor in the middle of the table: its rows are one range of the primary key.
    member = {"id": f"actor-{args.members // ORGS_PER_ACTOR // 2}"}

    lookups, hops = asyncio.run(lookup_times(with_members, member, args.requests * 4))
    servers = [
        Server([path, "-s", "permissions", PERMISSIONS], os.path.join(work, f"{name}.log"))
        for name, path in (("plain", plain), ("members", with_members))
    ]
    cookies = [
        "ds_actor=" + actor_cookie({"id": "someone", "org_id": "org-1"}),
        "ds_actor=" + actor_cookie(member),
    ]
    try:
        for server, cookie in zip(servers, cookies, strict=True):
            for _ in range(50):  # warm up
                request_time(server, cookie)
        times = [[], []]
        for _ in range(args.requests):
            for index in (0, 1):
                times[index].append(request_time(servers[index], cookies[index]))
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work)
    difference = statistics.median(times[1]) - statistics.median(times[0])
    print(f"{args.members:,} membership rows, {args.rows:,} demo sellers; {os.cpu_count()} cores\n")
    print("| what | median (min-max) |")
    print("|---|---|")
    print(f"| the lookup alone, in process ({len(lookups):,} calls) | {spread(lookups)} |")
    print(f"| of which the hop to Datasette's read thread | {spread(hops)} |")
    print(
        f"| `/-/sellers.json?_size=1`, actor with its own org_id, no table | {spread(times[0])} |"
    )
    print(f"| `/-/sellers.json?_size=1`, actor by membership | {spread(times[1])} |")
    print(f"| difference of the medians | {difference * 1000:.3f} ms |")


if __name__ == "__main__":
    main()
