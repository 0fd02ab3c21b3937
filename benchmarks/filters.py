"""Column filters, chosen columns and facets on the biggest organisation: first pages of
filters that keep many rows and few, on indexed columns and not; whole filtered exports
against the unfiltered one, per exported row; and facets.

    python benchmarks/filters.py                   # the 1,000,000-row demo, about 4 minutes
    python benchmarks/filters.py --rows 200000 --runs 2

It uses benchmarks/run.py's demo database (brought up to date with `init`), serves it with
`datasette serve` (facet_time_limit_ms raised, so that a facet's own time is measured), and
times requests with curl. A page's figure is the median of --repeats requests; an export's is
rows/s over --runs runs, interleaved with the unfiltered export.
"""

from grid import page_ms, print_export_rates, rows_in, the_biggest_organisation
from run import Server

PAGE_SIZE = 100
# (what it is, the filter): each with the share of the organisation's rows it keeps printed.
PAGES = [
    ("indexed, keeps many", "platform=ebay"),
    ("indexed, keeps most", "times_seen__gte=2"),
    ("indexed, keeps few", "times_seen__gte=499"),
    ("indexed, keeps very few", "feedback_count__gte=249000"),
    ("indexed range, many", "feedback_percent__gte=90"),
    ("created_at range", "created_at__gte=2024-05-01"),
    ("created_at range, few", "created_at__gte=2024-08-18"),
    ("created_at, one UTC day", "created_at__date=2024-03-01"),
    ("unindexed", "platform_id__startswith=12"),
    ("unindexed, keeps few", "platform_id__startswith=12345"),
    ("indexed and unindexed", "platform=ebay&display_name__contains=shop"),
    ("chosen columns", "_col=display_name&_col=platform"),
]
EXPORTS = [
    ("unfiltered", ""),
    ("platform=ebay", "&platform=ebay"),
    ("times_seen__lt=100", "&times_seen__lt=100"),
    ("feedback_percent__gte=90", "&feedback_percent__gte=90"),
    ("times_seen__gte=499 (few: listed)", "&times_seen__gte=499"),
    ("platform_id__startswith=1 (unindexed)", "&platform_id__startswith=1"),
    ("two columns", "&_col=display_name&_col=platform"),
]
FACETS = [
    ("none: the page of one row alone", ""),
    ("_facet=platform", "_facet=platform"),
    ("_facet=times_seen (500 values)", "_facet=times_seen"),
    ("_facet=flagged", "_facet=flagged"),
    ("_facet_date=created_at", "_facet_date=created_at"),
    ("_facet=platform, filtered by times_seen__gte=500", "_facet=platform&times_seen__gte=500"),
]


def main():
    args, db_path, counts, org = the_biggest_organisation(__doc__)
    server = Server(db_path, settings=[("facet_time_limit_ms", 60_000)])
    try:
        print("| first page of 100 rows | filter | rows kept | median ms |")
        print("|---|---|---|---|")
        for name, query in PAGES:
            kept = rows_in(server, org, "&" + query) if "_col" not in query else counts[org]
            path = f"/-/sellers.json?org_id={org}&_size={PAGE_SIZE}&{query}"
            ms = page_ms(server, path, args.repeats)
            share = f"{kept:,} ({kept / counts[org]:.1%})"
            print(f"| {name} | `{query}` | {share} | {ms:.1f} |")

        print("\n| facet, on the whole organisation | median ms |")
        print("|---|---|")
        for name, query in FACETS:
            path = f"/-/sellers.json?org_id={org}&_size=1&{query}"
            print(f"| `{name}` | {page_ms(server, path, args.repeats):.1f} |")

        print_export_rates(server, org, dict(EXPORTS), args.runs, "unfiltered, per exported row")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
