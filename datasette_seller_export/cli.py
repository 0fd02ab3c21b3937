"""`datasette seller-export ...`: the command line for the SQLite mirror."""

import contextlib
import csv
import io
import os
import re
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone

import click
import sqlite_utils
from datasette.utils.sqlite import sqlite3, using_pysqlite3  # Datasette's: what exports use

from . import memberships
from .commands import HELP
from .config import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PARALLEL_BATCHES,
    MAX_BATCH_SIZE,
    MAX_PARALLEL_BATCHES,
    Limits,
)
from .engine.compression import EXTENSIONS, IDENTITY, STREAMS
from .engine.export import ExportPlan, write_export
from .engine.formats import FORMATS
from .engine.functions import register_functions
from .engine.organisations import MAX_MIRROR_ORGS, mirror_orgs_sql, unknown_org_hint
from .engine.queries import count_query
from .engine.schema import (
    NotStrictable,
    ensure_id_type,
    ensure_strict,
    ensure_table,
    search_index,
    sqlite_version_problem,
    table_problem,
)
from .engine.selection import (
    ParameterError,
    Selection,
    parse_criteria,
    parse_flagged,
    parse_sort,
)
from .mirror import members as members_writer
from .mirror.demo import DEMO_SOURCE, demo_rows, real_rows_problem
from .mirror.dumps import FORMATS as IMPORT_FORMATS
from .mirror.dumps import CountingReader, format_for, read_records
from .mirror.records import RecordError
from .mirror.timestamps import format_utc
from .mirror.writer import counted, write_records


@click.group(name="seller-export", help=HELP)
def seller_export():
    pass


def _table_option(function):
    return click.option(
        "--table", default="sellers", show_default=True, help="Name of the sellers table"
    )(function)


_db_argument = click.argument("db_path", metavar="DB", type=click.Path(dir_okay=False))


def _integer_ids_option(function):
    return click.option(
        "--integer-ids",
        is_flag=True,
        help="Production's ids are whole numbers (bigint): store them as integers, so that "
        "ties sort as production sorts them (sync finds this out by itself)",
    )(function)


@seller_export.command()
@_db_argument
@_table_option
@_integer_ids_option
def init(db_path, table, integer_ids):
    """Create the sellers table, its sort indexes and its search index in DB, or add what an
    existing mirror lacks (and rebuild one made before mirrors were STRICT, whose exports
    cost more). Safe to run again."""
    db = sqlite_utils.Database(db_path)
    rebuilt = False
    with db.atomic():
        changes = ensure_table(db, table, ids="integer" if integer_ids else "text")
        if integer_ids and ensure_id_type(db, table, "integer"):
            changes.append(f"ids of {table} now stored as integers")
        try:
            if ensure_strict(db, table):
                changes.append(f"rebuilt table {table} as STRICT, so exports need no type checks")
                rebuilt = True
        except NotStrictable as error:
            click.echo(
                f"left table {table} as it is, not STRICT: {error}; exports check each"
                " value's type (fix that column's values and run init again to skip that)",
                err=True,
            )
    for change in changes:
        click.echo(change)
    if rebuilt:
        (free,) = db.execute(
            "SELECT freelist_count * page_size FROM pragma_freelist_count, pragma_page_size"
        ).fetchone()
        click.echo(
            f"the old table's {free / 1e6:,.0f} MB are free pages in {db_path} now;"
            " `sqlite3 DB VACUUM` gives them back (it needs that much free disk again)"
        )
    if not changes:
        click.echo(f"{db_path}: table {table} and its indexes are already in place")


@seller_export.command()
@_db_argument
@_table_option
@click.option(
    "--rows",
    type=click.IntRange(min=0),
    default=10_000,
    show_default=True,
    help="Rows in all, soft-deleted ones included",
)
@click.option(
    "--orgs",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Organisations to spread them over",
)
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="The same seed always gives the same data",
)
def demo(db_path, table, rows, orgs, seed):
    """Fill DB with realistic demo sellers: unicode, commas, quotes, newlines, formula-like
    names, ties on created_at, NULLs and soft-deleted rows. Rows with the same ids are
    replaced, so running it again with the same seed changes nothing."""
    db = sqlite_utils.Database(db_path)
    problem = real_rows_problem(db, table)
    if problem:
        raise click.ClickException(f"{db_path}: {problem}")
    with click.progressbar(length=rows, label="Writing demo sellers", file=sys.stderr) as bar:
        records = counted(demo_rows(rows, orgs, seed), bar.update)
        write_records(db, table, records, state_after=lambda: {"source": DEMO_SOURCE})
    click.echo(f"{db_path}: {rows:,} demo sellers in {orgs} organisations (seed {seed})")


@seller_export.command(name="export")
@click.argument("db_path", metavar="DB", type=click.Path(dir_okay=False, exists=True))
@click.option("--org", "org_id", required=True, help="The organisation whose sellers to export")
@click.option(
    "--format",
    "format_name",
    type=click.Choice(list(FORMATS)),
    help="csv, json, ndjson, xlsx or parquet (default: as -o's name ends, else csv)",
)
@click.option("--flagged", help="true or false (also 1 or 0): only flagged or unflagged sellers")
@click.option("--search", "-q", "search", help="Only sellers whose names hold this, in any case")
@click.option("--sort", "sort_ascending", metavar="COLUMN", help="Sort by COLUMN, ascending")
@click.option("--sort-desc", "sort_descending", metavar="COLUMN", help="Sort by COLUMN, descending")
@click.option(
    "--filter",
    "filters",
    multiple=True,
    metavar="COL[__OP]=VALUE",
    help="A column filter, as Datasette's (platform=ebay, times_seen__gte=100); repeatable",
)
@click.option("--col", "columns", multiple=True, metavar="COLUMN", help="Only these columns")
@click.option("--nocol", "dropped_columns", multiple=True, metavar="COLUMN", help="Not these")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write here (default: standard output)"
)
@click.option(
    "--compress",
    type=click.Choice(list(STREAMS)),
    help="Compress the export (default: as -o's name ends, .zst or .gz, else not at all)",
)
@click.option("--bom", is_flag=True, help="CSV only: start with a UTF-8 byte-order mark, for Excel")
@click.option(
    "--escape-formulas/--no-escape-formulas",
    default=True,
    show_default=True,
    help="CSV only: prefix formula-like text with '",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, MAX_BATCH_SIZE),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
)
@click.option(
    "--parallel",
    "parallel_batches",
    type=click.IntRange(1, MAX_PARALLEL_BATCHES),
    default=DEFAULT_PARALLEL_BATCHES,
    show_default=True,
    help="Batches read and encoded at once, each on a thread of its own",
)
@_table_option
def export_command(
    db_path,
    org_id,
    format_name,
    flagged,
    search,
    sort_ascending,
    sort_descending,
    filters,
    columns,
    dropped_columns,
    output,
    compress,
    bom,
    escape_formulas,
    batch_size,
    parallel_batches,
    table,
):
    """Export one organisation's sellers from DB: the same bytes as the HTTP endpoint, with the
    same filters (--flagged, --search, --filter), columns (--col, --nocol) and orders (--sort,
    --sort-desc: created_at, display_name, times_seen, feedback_percent, feedback_count or
    platform)."""
    try:
        flagged = parse_flagged(flagged)
    except ParameterError as error:
        raise click.BadParameter(str(error), param_hint="--flagged") from None
    try:
        sort = parse_sort(sort_ascending, sort_descending, names=("--sort", "--sort-desc"))
    except ParameterError as error:
        raise click.BadParameter(str(error), param_hint="--sort") from None
    encoding = _output_encoding(output, compress)
    fmt = _output_format(output, format_name, encoding)
    if bom and fmt.name != "csv":
        raise click.BadParameter("--bom is for CSV only", param_hint="--bom")
    problem = sqlite_version_problem(sqlite3.sqlite_version_info, using_pysqlite3)
    if problem:
        raise click.ClickException(problem)
    try:
        narrowed = parse_criteria(
            [_filter_pair(text) for text in filters]
            + [("_col", c) for c in columns]
            + [("_nocol", c) for c in dropped_columns]
        )
    except ParameterError as error:
        raise click.BadParameter(str(error), param_hint="--filter/--col/--nocol") from None
    criteria = replace(narrowed, org_id=org_id, flagged=flagged, search=search or None, sort=sort)
    limits = Limits()
    planned_by = (limits.export_matches, limits.scan_rows)
    try:
        selection, total = _read_selection(db_path, table, criteria, count=output is not None)
        plan = ExportPlan(selection, fmt, batch_size, escape_formulas, bom, parallel_batches)
        if output is None:
            write_export(db_path, plan, sys.stdout.buffer, *planned_by, encoding=encoding)
            return
        with click.progressbar(length=total, label=f"Exporting {org_id}", file=sys.stderr) as bar:
            with atomic_file(output) as out:
                write_export(
                    db_path, plan, out, *planned_by, on_batch=bar.update, encoding=encoding
                )
    except sqlite3.Error as error:
        outcome = "what was written is incomplete" if output is None else f"{output} is unchanged"
        raise click.ClickException(f"{db_path}: the export failed: {error}; {outcome}") from None
    except OSError as error:
        # The path as the user typed it, not the temporary file beside it that failed.
        reason = error.strerror or str(error)
        raise click.ClickException(f"{output}: cannot write the export there: {reason}") from None
    click.echo(f"{output}: {total:,} sellers of {org_id}", err=True)


def _filter_pair(text):
    """`--filter COL=VALUE` or `COL__OP=VALUE`, as the query string's filters."""
    name, equals, value = text.partition("=")
    if not equals:
        raise click.BadParameter(
            f"{text!r} is not a filter: give COL=VALUE or COL__OP=VALUE, e.g. platform=ebay",
            param_hint="--filter",
        )
    return name, value


def _read_selection(db_path, table, criteria, count):
    """The selection of DB's table, and how many rows it holds when `count` (for a progress
    bar); the table checked, and a warning for an organisation the mirror does not hold."""
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        register_functions(conn)
        db = sqlite_utils.Database(conn)
        problem = table_problem(db, table)
        if problem:
            raise click.ClickException(f"{db_path}: {problem}")
        selection = criteria.selection(table, criteria.org_id, search_index(db, table))
        _warn_of_an_unknown_org(conn, db_path, table, criteria.org_id)
        total = conn.execute(*count_query(selection)).fetchone()[0] if count else None
    return selection, total


def _warn_of_an_unknown_org(conn, db_path, table, org_id):
    """A mistyped organisation exports nothing, which looks like success: say so, and name
    the ids like it."""
    if conn.execute(*count_query(Selection(table=table, org_id=org_id), 1)).fetchone()[0]:
        return
    org_ids = [row[0] for row in conn.execute(mirror_orgs_sql(table, MAX_MIRROR_ORGS))]
    click.echo(
        f"Warning: {db_path} has no sellers of organisation {org_id!r}; "
        + unknown_org_hint(org_id, org_ids),
        err=True,
    )


def _output_format(output, format_name, encoding):
    """--format, else the one -o's name ends with (before any .gz or .zst), else CSV."""
    name = format_name
    if name is None and output:
        extension = EXTENSIONS.get(encoding, "")
        stem = output[: -len(extension)] if extension and output.endswith(extension) else output
        name = next((n for n in FORMATS if stem.lower().endswith(f".{n}")), None)
    fmt = FORMATS[name or "csv"]
    if not fmt.available:
        raise click.ClickException(fmt.missing_message())
    if fmt.compressed and encoding != IDENTITY:
        raise click.BadParameter(
            f"{fmt.name} is compressed already: leave out --compress and the .gz or .zst",
            param_hint="--compress",
        )
    return fmt


def _output_encoding(output, compress):
    """The coding the export is written in: --compress, else the one -o's name ends with."""
    named = next(
        (name for name, ext in EXTENSIONS.items() if output and output.endswith(ext)), None
    )
    if compress and named and compress != named:
        raise click.BadParameter(
            f"{output} ends in {EXTENSIONS[named]}, which is {named}, not {compress}: "
            f"name the file {output[: -len(EXTENSIONS[named])]}{EXTENSIONS[compress]}",
            param_hint="--compress",
        )
    return compress or named or IDENTITY


@seller_export.command(name="import")
@_db_argument
@click.argument("dump_path", metavar="FILE", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--format",
    "format_name",
    type=click.Choice(IMPORT_FORMATS),
    help="csv, json or ndjson (default: told by FILE's extension)",
)
@_table_option
@_integer_ids_option
def import_command(db_path, dump_path, format_name, table, integer_ids):
    """Mirror FILE, a dump of the production sellers table with every column, into DB:
    upsert by id, in one transaction. A bad record stops the import and nothing is written.
    In CSV an unquoted empty field is NULL and "" is the empty string, as PostgreSQL's
    COPY ... CSV writes them; booleans may be t/f, true/false or 1/0."""
    db = sqlite_utils.Database(db_path)
    try:
        fmt = format_for(dump_path, format_name)
        with (
            open(dump_path, "rb") as raw,
            click.progressbar(
                length=os.path.getsize(dump_path), label="Importing", file=sys.stderr
            ) as bar,
        ):
            text = io.TextIOWrapper(
                CountingReader(raw, bar.update), encoding="utf-8-sig", newline=""
            )
            ids = "integer" if integer_ids else None
            source = {"source": f"import of {os.path.basename(dump_path)}"}
            summary = write_records(
                db, table, read_records(text, fmt), ids=ids, state_after=lambda: source
            )
    except RecordError as error:
        raise click.ClickException(f"{dump_path}: {error}; nothing was imported") from None
    except UnicodeDecodeError as error:
        raise click.ClickException(
            f"{dump_path}: not UTF-8 text ({error}); nothing was imported"
        ) from None
    click.echo(f"{db_path}: {summary}")


class Duration(click.ParamType):
    """A span of time: 90, 90s, 5m, 1h (seconds when no unit is given)."""

    name = "duration"
    _UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}

    def convert(self, value, param, ctx):
        if isinstance(value, (int, float)):
            return float(value)
        number, unit = re.fullmatch(r"\s*([0-9.]*)\s*([smh]?)\s*", value or "").groups()
        try:
            return float(number) * self._UNITS[unit]
        except ValueError:
            self.fail(f"{value!r} is not a duration: write it as 90s, 5m or 1h", param, ctx)


@seller_export.command(name="sync")
@_db_argument
@click.option(
    "--from",
    "url",
    envvar="DATABASE_URL",
    metavar="URL",
    help="The production database, postgresql://user:password@host:port/dbname "
    "(default: $DATABASE_URL)",
)
@click.option(
    "--source-table",
    default="sellers",
    show_default=True,
    help="The production table (schema.table where it is not on the search path)",
)
@click.option(
    "--overlap",
    type=Duration(),
    default="5m",
    show_default=True,
    help="Read again the changes this long before the last run's newest, for transactions "
    "that commit late",
)
@click.option(
    "--full",
    is_flag=True,
    help="Read every row, and remove the mirror's rows whose id production no longer has",
)
@click.option(
    "--every",
    type=Duration(),
    help="Run again this long after each run starts, until stopped (Ctrl-C)",
)
@click.option(
    "--ignore-unknown-columns",
    is_flag=True,
    help="Sync without the production columns the mirror does not know",
)
@click.option(
    "--follow",
    is_flag=True,
    help="Keep DB current from PostgreSQL's logical replication, change by change (hard "
    "deletes too), until stopped: a first copy, then the stream (docs/mirror.md)",
)
@click.option(
    "--status",
    is_flag=True,
    help="Show the replication slot DB follows: its lag, and the WAL production keeps for it",
)
@click.option(
    "--drop-slot",
    is_flag=True,
    help="Drop the replication slot DB follows, so production stops keeping WAL for it; a "
    "later --follow copies afresh",
)
@click.option(
    "--slot",
    metavar="NAME",
    help="The replication slot's name (default: seller_export_<host>_<file>_<hash>)",
)
@click.option(
    "--publication",
    metavar="NAME",
    help="The publication to read (default: seller_export_<source table>; created when the "
    "role may)",
)
@_table_option
def sync_command(
    db_path,
    url,
    source_table,
    overlap,
    full,
    every,
    ignore_unknown_columns,
    follow,
    status,
    drop_slot,
    slot,
    publication,
    table,
):
    """Bring DB up to date from the production sellers table in PostgreSQL: every row the first
    time, then the rows changed since the last run, upserted by id. Each run is one
    transaction: a failure leaves the mirror as it was, and readers are never blocked. With
    --follow, keep it current from a logical replication slot instead."""
    # Here, not at the top: psycopg takes a quarter of a second to import, which every
    # `datasette` command (serve included) would otherwise pay.
    from .mirror.postgres import SourceError
    from .mirror.sync import sync

    if not url:
        raise click.UsageError(
            "say where production is: --from postgresql://user:password@host:port/dbname, "
            "or set $DATABASE_URL"
        )
    _check_directory(db_path)
    chosen = [
        name
        for name, on in (("--follow", follow), ("--status", status), ("--drop-slot", drop_slot))
        if on
    ]
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} do different things: choose one")
    if chosen and (full or every is not None):
        watermark = "--full" if full else "--every"
        raise click.UsageError(f"{watermark} belongs to the watermark sync, not {chosen[0]}")
    for name, value in (("--slot", slot), ("--publication", publication)):
        if value is not None and not chosen:
            raise click.UsageError(f"{name} goes with --follow, --status or --drop-slot")
    if chosen:
        run = {"--follow": _follow, "--status": _slot_status, "--drop-slot": _drop_slot}
        try:
            return run[chosen[0]](
                db_path,
                url,
                source_table=source_table,
                table=table,
                slot=slot,
                publication=publication,
                ignore_unknown_columns=ignore_unknown_columns,
            )
        except (SourceError, RecordError, sqlite3.Error) as error:
            raise click.ClickException(f"{db_path}: {error}") from None
    running = False

    def run_once():
        nonlocal running
        running = True
        existed = os.path.exists(db_path)
        try:
            run = sync(
                db_path,
                url,
                source_table=source_table,
                table=table,
                overlap_seconds=overlap,
                full=full,
                ignore_unknown_columns=ignore_unknown_columns,
                progress_bar=lambda length: click.progressbar(
                    length=length, label="Syncing", file=sys.stderr
                ),
            )
        except (SourceError, RecordError, sqlite3.Error) as error:
            outcome = "the mirror is unchanged" if existed else "no mirror was made"
            raise click.ClickException(f"{db_path}: {error}; {outcome}") from None
        finally:
            running = False
        click.echo(f"{format_utc(datetime.now(timezone.utc))[:19]}Z {db_path}: {run}")

    try:
        while True:
            started = time.monotonic()
            try:
                run_once()
            except click.ClickException as error:
                if every is None:
                    raise
                # On a schedule a failed run is reported, and the next one tries again.
                click.echo(f"Error: {error.message}", err=True)
            if every is None:
                return
            time.sleep(max(0.0, every - (time.monotonic() - started)))
    except KeyboardInterrupt:
        if running:
            raise click.ClickException(
                f"{db_path}: interrupted; the run under way was rolled back, so the mirror "
                "is unchanged"
            ) from None
        click.echo("Stopped.", err=True)


def _echo_line(line):
    click.echo(f"{format_utc(datetime.now(timezone.utc))[:19]}Z {line}", err=True)


def _follow(db_path, url, **options):
    """`sync --follow`: until Ctrl-C or SIGTERM, which roll back only what is not committed."""
    import signal

    from .mirror.follow import follow, mirror_state

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        followed = follow(
            db_path,
            url,
            **options,
            report=_echo_line,
            progress_bar=lambda length: click.progressbar(
                length=length, label="Copying", file=sys.stderr
            ),
        )
    except KeyboardInterrupt:
        lsn = mirror_state(db_path, options["table"])["replication_lsn"]
        where = f"production up to {lsn}" if lsn else "no copy yet"
        _echo_line(f"stopped; {db_path} holds {where}, and the next --follow goes on from there")
        return
    _echo_line(str(followed))


def _mirror_slot(db_path, mirror, slot):
    """The slot named, or the one the mirror (its state) follows, or a UsageError."""
    followed = mirror["replication_slot"]
    if slot is None and followed is None:
        raise click.UsageError(f"{db_path} follows no slot; name one with --slot")
    return slot or followed


def _slot_status(db_path, url, *, table, slot, **_):
    """`sync --status`: the slot, how far behind the mirror is, and the WAL it holds back."""
    from .mirror.follow import mirror_state
    from .mirror.replication import slot_status

    mirror = mirror_state(db_path, table)
    name = _mirror_slot(db_path, mirror, slot)
    status = slot_status(url, name)
    click.echo(f"slot: {name}")
    if mirror["replication_lsn"]:
        click.echo(
            f"mirror: at {mirror['replication_lsn']}, production's transaction of "
            f"{mirror['replication_commit_time'] or 'the first copy'}, applied at "
            f"{mirror['synced_at']}"
        )
    if not status.exists:
        click.echo("on production: no such slot (sync --drop-slot forgets it here)")
        return
    if status.active_pid:
        lag = status.replay_lag_seconds
        lag_text = "caught up" if lag is None else f"{lag:.3f} s behind"
        click.echo(f"reader: PostgreSQL process {status.active_pid}, {lag_text}")
    else:
        click.echo(
            "reader: none. PostgreSQL keeps every WAL segment for this slot until it is read "
            "or dropped (sync --drop-slot)"
        )
    if status.unconfirmed_bytes is not None:
        click.echo(
            f"behind: {_size(status.unconfirmed_bytes)} of WAL since the position it "
            f"confirmed, {status.confirmed_lsn} (production is at {status.current_lsn})"
        )
    if status.retained_bytes is not None:
        click.echo(f"WAL kept for it: {_size(status.retained_bytes)} ({status.wal_status})")
    if status.wal_status == "lost":
        click.echo(
            "invalidated (lost): PostgreSQL removed the WAL it held; run sync --drop-slot, "
            "then sync --follow, which copies afresh"
        )
    elif status.safe_wal_size is None:
        click.echo(
            "limit: none (max_slot_wal_keep_size is -1): a slot nobody reads can fill "
            "production's disk"
        )
    else:
        click.echo(
            f"limit: {_size(status.safe_wal_size)} more before max_slot_wal_keep_size "
            "invalidates it"
        )


def _size(count):
    for unit in ("bytes", "KB", "MB", "GB"):
        if abs(count) < 1024 or unit == "GB":
            return f"{count:,} {unit}" if unit == "bytes" else f"{count:,.1f} {unit}"
        count /= 1024


def _drop_slot(db_path, url, *, table, slot, **_):
    """`sync --drop-slot`: drop the slot and forget it, so a later --follow copies afresh."""
    from .mirror import state
    from .mirror.follow import mirror_state
    from .mirror.replication import drop_slot

    name = _mirror_slot(db_path, mirror_state(db_path, table), slot)
    dropped = drop_slot(url, name)
    if os.path.exists(db_path):
        with contextlib.closing(sqlite_utils.Database(db_path)) as db, db.atomic():
            if state.read(db.conn, table)["replication_slot"] == name:
                state.write(db.conn, table, **dict.fromkeys(state.REPLICATION_FIELDS))
    what = "dropped" if dropped else "was not on production"
    click.echo(f"{name} {what}; {db_path} no longer follows it (a later --follow copies afresh)")


@seller_export.group()
def members():
    """Who belongs to which organisation: the memberships table that gives Datasette's API
    tokens and the actors of sign-in plugins (who carry only an id) their organisations."""


def _members_table_option(function):
    return click.option(
        "--table",
        default=memberships.DEFAULT_TABLE,
        show_default=True,
        help="Name of the memberships table (the plugin's memberships_table setting)",
    )(function)


@contextlib.contextmanager
def _members_connection(db_path):
    """A connection to DB, with any failure to open or write it, or any bad membership, as a
    clear error rather than a traceback."""
    try:
        conn = sqlite3.connect(db_path)
    except sqlite3.Error as error:
        raise click.ClickException(f"{db_path}: cannot open it ({error})") from None
    try:
        yield conn
    except members_writer.MembersError as error:
        raise click.ClickException(f"{error}; nothing was changed") from None
    except sqlite3.Error as error:
        raise click.ClickException(f"{db_path}: {error}; nothing was changed") from None
    finally:
        conn.close()


def _check_directory(db_path):
    directory = os.path.dirname(os.path.abspath(db_path))
    if not os.path.isdir(directory):
        raise click.ClickException(f"{db_path}: the directory {directory} does not exist")


@members.command(name="add")
@_db_argument
@click.argument("actor_id")
@click.argument("org_ids", metavar="ORG_ID...", nargs=-1, required=True)
@_members_table_option
@click.option(
    "--sellers-table",
    default="sellers",
    show_default=True,
    help="The sellers table, to warn of an organisation it has no sellers of",
)
def members_add(db_path, actor_id, org_ids, table, sellers_table):
    """ACTOR_ID joins each ORG_ID. The table is created when missing; adding a membership that
    is already there changes nothing."""
    _check_directory(db_path)
    with _members_connection(db_path) as conn:
        change = members_writer.add(conn, table, actor_id, org_ids)
        sellers = sqlite_utils.Database(conn)
        if sellers[sellers_table].exists():
            for org_id in org_ids:
                _warn_of_an_unknown_org(conn, db_path, sellers_table, org_id)
    click.echo(f"{db_path}: {change}")


@members.command(name="remove")
@click.argument("db_path", metavar="DB", type=click.Path(dir_okay=False, exists=True))
@click.argument("actor_id")
@click.argument("org_ids", metavar="ORG_ID...", nargs=-1, required=True)
@_members_table_option
def members_remove(db_path, actor_id, org_ids, table):
    """ACTOR_ID leaves each ORG_ID, from its next request on."""
    with _members_connection(db_path) as conn:
        change = members_writer.remove(conn, table, actor_id, org_ids)
    click.echo(f"{db_path}: {change}")


@members.command(name="list")
@click.argument("db_path", metavar="DB", type=click.Path(dir_okay=False, exists=True))
@click.option("--actor", "actor_id", help="Only this actor's memberships")
@click.option("--org", "org_id", help="Only this organisation's members")
@_members_table_option
def members_list(db_path, actor_id, org_id, table):
    """The memberships as CSV (actor_id,org_id), the form `members import` reads."""
    if actor_id is not None and org_id is not None:
        raise click.UsageError("give --actor or --org, not both")
    with _members_connection(db_path) as conn:
        rows = members_writer.listed(conn, table, actor_id, org_id)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(memberships.COLUMNS)
    writer.writerows(rows)


@members.command(name="import")
@_db_argument
@click.argument("csv_path", metavar="FILE.csv", type=click.Path(dir_okay=False, exists=True))
@click.option("--replace", is_flag=True, help="Make the table exactly the file")
@_members_table_option
def members_import(db_path, csv_path, replace, table):
    """Add the memberships in FILE.csv (a header actor_id,org_id, then one per line), all in one
    transaction; with --replace, also remove every membership the file does not name."""
    _check_directory(db_path)
    with _members_connection(db_path) as conn:
        try:
            with open(csv_path, encoding="utf-8-sig", newline="") as text:
                pairs = members_writer.read_csv(text)
        except UnicodeDecodeError as error:
            raise click.ClickException(f"{csv_path}: not UTF-8 text ({error})") from None
        except members_writer.MembersError as error:
            raise click.ClickException(f"{csv_path}: {error}; nothing was changed") from None
        change = members_writer.import_pairs(conn, table, pairs, replace)
    click.echo(f"{db_path}: {change}")


@contextlib.contextmanager
def atomic_file(path):
    """A binary file that appears at `path` only once it is complete: a failed export leaves
    no partial file behind (nor harms one already there)."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".sellers-export-")
    try:
        with os.fdopen(handle, "wb") as out:
            yield out
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
