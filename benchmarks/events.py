"""What the plugin's events cost a page of the JSON API: `/-/sellers.json?_size=1` with its
`seller-page` event and without it (the setting track_pages off), with no plugin recording
events; and with the published datasette-events-db recording them in Datasette's internal
database (`pip install datasette-events-db` first: it is not among the plain install's).

    python benchmarks/events.py --runs 15 --repeats 200   # the 1,000,000-row demo, 2 minutes

One server for each case, all up at once; in each run every server in turn, in a new order
each run, answers --repeats requests from one curl process (one connection), and the run's
figure is their median. A case's cost is its difference from the page without an event in
the same run, so that the host's drift between runs cancels: the median of the runs'
differences, with their spread. Then the same event built and sent in this process, with no
recording plugin, timed apart from HTTP.
"""

import asyncio
import random
import statistics
import subprocess
import time

from datasette.app import Datasette
from datasette.plugins import pm
from grid import the_biggest_organisation
from run import Server, spread

from datasette_seller_export.engine.selection import Criteria
from datasette_seller_export.events import SellerPageEvent, emit, filters_asked

CASES = [
    ("no event (track_pages off)", {"track_pages": False}, ()),
    ("seller-page event, no recording plugin", {}, ()),
    ("seller-page event, datasette-events-db recording", {}, ("datasette-events-db",)),
]


def page_ms(server, path, repeats):
    """The median milliseconds of `repeats` GETs of `path`, from one curl process."""
    requests = []
    for _ in range(repeats):
        requests += ["-o", "/dev/null", server.url + path]
    out = subprocess.run(
        ["curl", "-s", "-f", "-b", server.cookie, "-w", "%{time_total}\\n", *requests],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return statistics.median(float(seconds) * 1000 for seconds in out)


async def emitting_us(count):
    """Microseconds to build a seller-page event and send it, in process, with no plugin
    recording events."""
    for name in ("events_db",):  # installed beside the plugin, perhaps: not this case
        if pm.get_plugin(name) is not None:
            pm.unregister(name=name)
    datasette = Datasette()
    await datasette.invoke_startup()
    criteria = Criteria()
    started = time.perf_counter()
    for _ in range(count):
        event = SellerPageEvent(
            actor={"id": "root"},
            surface="api",
            org_id="org-1",
            filters=filters_asked(criteria),
            rows=1,
        )
        emit(datasette, event)
    await asyncio.gather(*(asyncio.all_tasks() - {asyncio.current_task()}))
    return (time.perf_counter() - started) / count * 1e6


def main():
    args, db_path, counts, org = the_biggest_organisation(__doc__)
    path = f"/-/sellers.json?org_id={org}&_size=1"
    servers = []
    try:
        for number, (_, plugin, plugins) in enumerate(CASES):
            servers.append(
                Server(db_path, plugin=plugin, plugins=plugins, log=f"events-{number}.log")
            )
        for server in servers:  # warm up: the first requests open connections and caches
            page_ms(server, path, 20)
        pages = [[] for _ in CASES]
        for run in range(args.runs):
            order = list(range(len(CASES)))
            random.Random(run).shuffle(order)
            for case in order:
                pages[case].append(page_ms(servers[case], path, args.repeats))
    finally:
        for server in servers:
            server.stop()
    print(f"`{path}`, {args.repeats} requests a run, {args.runs} runs:\n")
    print("| case | ms a page, median (min-max) | cost over no event, ms: median (min-max) |")
    print("|---|---|---|")
    for (name, _, _), figures in zip(CASES, pages, strict=True):
        costs = [case - none for case, none in zip(figures, pages[0], strict=True)]
        print(f"| {name} | {spread(figures, '{:.3f}')} | {spread(costs, '{:+.3f}')} |")
    count = 100_000
    cost = asyncio.run(emitting_us(count))
    print(f"\nBuilt and sent in process, no recording plugin: {cost:.1f} µs an event ({count:,}).")


if __name__ == "__main__":
    main()
