"""`datasette seller-export sync DB --from URL --follow`: the mirror kept current from a
logical replication slot, change by change, until stopped.

A mirror with no slot of its own (a new one, or one the watermark sync kept) is copied first:
the slot is created with an exported snapshot, the copy reads exactly that snapshot, and the
slot streams exactly the transactions that commit after it, so that the copy and the stream
meet with no gap and no double (PostgreSQL's own guarantee: the copy's state records the slot's
consistent point as the mirror's position). Then the stream is applied (apply.py), and only
what SQLite has committed is confirmed to production.

A lost connection (a restart of PostgreSQL, a dropped network) is retried with a growing wait;
anything else stops the follower with what to do. Whatever stops it, the next run goes on from
the position in the mirror's state.
"""

import contextlib
import os
import select
import sqlite3
import time
from dataclasses import dataclass, field

import sqlite_utils

from ..engine.schema import ensure_table
from . import state
from .apply import Applier, OutOfStep
from .pgoutput import decode, format_lsn, parse_lsn
from .postgres import SourceError, first_line, open_source
from .replication import (
    Stream,
    check_setup,
    check_slot_name,
    default_publication_name,
    default_slot_name,
    is_transient,
    slot_status,
)
from .sync import BUSY_TIMEOUT_MS, copy_source, remove_new_mirror
from .writer import LOAD_CACHE_KIB

# Whole transactions that arrive together are committed together. A group is committed when
# the stream has nothing more to read and the group opened at least MIN_GROUP_SECONDS ago
# (a caught-up follower), or when it holds GROUP_CHANGES changes or opened GROUP_SECONDS ago
# (a backlog, which never runs dry). A commit costs about 0.7 ms whatever it holds, so at
# 1,000 single-change transactions a second, one commit each took 78% of a core; and a page
# that every group dirties is written once a group (docs/benchmarks.md#following).
MIN_GROUP_SECONDS = 0.02
GROUP_CHANGES = 10_000
GROUP_SECONDS = 0.5
# How long the stream waits for a message when it holds nothing to commit, before it looks
# again (and confirms the server's position, if nothing of the table is under way).
IDLE_WAIT_SECONDS = 0.5
RETRY_SECONDS = (1, 2, 5, 10, 30)


@dataclass
class Options:
    source_table: str = "sellers"
    table: str = "sellers"
    slot: str | None = None
    publication: str | None = None
    ignore_unknown_columns: bool = False
    progress_bar: object = None  # progress_bar(length), for the first copy (click's)
    report: object = print  # report(line), a line for the person running it
    report_every: float = 60.0
    should_stop: object = lambda: False


@dataclass
class Followed:
    """What a follower did, for its last line."""

    slot: str
    lsn: int
    totals: dict = field(default_factory=dict)
    starts: int = 0  # streams started: until one is, an error is the answer, not retried

    def __str__(self):
        t = self.totals
        return (
            f"+{t.get('inserted', 0):,} ~{t.get('updated', 0):,} -{t.get('removed', 0):,} in "
            f"{t.get('transactions', 0):,} production transactions; slot {self.slot}, "
            f"at {format_lsn(self.lsn)}"
        )


def follow(db_path, url, **options):
    """Follow production until `should_stop()` is true or an error stops it."""
    options = Options(**options)
    previous = mirror_state(db_path, options.table)
    if options.slot is not None:
        check_slot_name(options.slot)
    followed_slot = previous["replication_slot"]
    options.slot = options.slot or followed_slot or default_slot_name(db_path)
    if followed_slot and options.slot != followed_slot:
        raise SourceError(
            f"{options.table} follows the slot {followed_slot}, not {options.slot}: "
            "leave out --slot, or run sync --drop-slot to start again from a fresh copy"
        )
    options.publication = options.publication or default_publication_name(options.source_table)
    followed = Followed(options.slot, 0)
    failures, starts = 0, 0
    while not options.should_stop():
        try:
            table = check_setup(url, options.source_table, options.publication)
            with _connected(url) as stream:
                _follow(db_path, url, stream, table, options, followed)
            return followed
        except Exception as error:  # only a lost connection is retried
            if not (followed.starts and is_transient(error)):
                raise
            if followed.starts != starts:  # it streamed since the last failure
                failures, starts = 0, followed.starts
            wait = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
            failures += 1
            options.report(f"lost production ({first_line(error)}); trying again in {wait} s")
            _sleep(wait, options.should_stop)
    return followed


@contextlib.contextmanager
def _connected(url):
    stream = Stream(url)
    try:
        yield stream
    finally:
        stream.close()


def _follow(db_path, url, stream, table, options, followed):
    """Copy if the mirror has no position, then stream from it, in one connection."""
    relation_id, qualified = table
    slot, publication = options.slot, options.publication
    if mirror_state(db_path, options.table)["replication_lsn"] is None:
        _first_copy(db_path, url, stream, slot, options)
    else:
        _check_slot(url, slot, options.table)
        _complete_indexes(db_path, options.table, options.report)
    conn = sqlite3.connect(db_path, isolation_level=None, cached_statements=256)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # The writer's page cache: a change touches pages of every index of the table.
        conn.execute(f"PRAGMA cache_size = -{LOAD_CACHE_KIB}")
        lsn = parse_lsn(state.read(conn, options.table)["replication_lsn"])
        applier = Applier(conn, options.table, relation_id, lsn, options.ignore_unknown_columns)
        followed.lsn = lsn
        options.report(f"following {qualified} through the slot {slot} from {format_lsn(lsn)}")
        try:
            stream.start(slot, publication, lsn)
            followed.starts += 1
            _stream(stream, applier, options, followed)
        except BaseException as error:
            applier.rollback()
            _explain_stream_error(error, slot, options.table)
            raise
        finally:
            followed.lsn = applier.lsn
            followed.totals = dict(applier.totals)
    finally:
        conn.close()


def _first_copy(db_path, url, stream, slot, options):
    """Copy the table at the new slot's snapshot, the slot's consistent point its position."""
    # A slot of this name with no position in the mirror is what a copy that did not finish
    # left: nobody can read its snapshot again, so it is made anew.
    if slot_status(url, slot).exists:
        stream.drop_slot(slot)
    created = stream.create_slot(slot)
    options.report(f"copying {options.source_table} at the slot {slot}'s snapshot")
    new_mirror = not os.path.exists(db_path)
    try:
        with (
            open_source(
                url, options.source_table, options.ignore_unknown_columns, created.snapshot
            ) as source,
            contextlib.closing(sqlite_utils.Database(db_path)) as db,
        ):
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.enable_wal()
            summary = copy_source(
                db,
                options.table,
                source,
                None,
                options.progress_bar,
                remove_missing=True,
                high_water_mark=None,
                replication_slot=slot,
                replication_lsn=format_lsn(created.consistent_lsn),
                replication_commit_time=None,
            )
    except BaseException:
        # No mirror holds the slot's position: a slot left behind would keep WAL for nobody.
        with contextlib.suppress(Exception):
            stream.drop_slot(slot)
        if new_mirror:
            remove_new_mirror(db_path)
        raise
    options.report(f"copied: {summary}")


def mirror_state(db_path, table):
    """The mirror's state, without creating a file where there is none."""
    if not os.path.exists(db_path):
        return dict.fromkeys(state.FIELDS)
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return state.read(conn, table)


def _complete_indexes(db_path, table, report):
    """A new mirror's sort and search indexes follow its copy in a transaction of their own:
    a follower stopped in between builds them when it goes on."""
    with contextlib.closing(sqlite_utils.Database(db_path)) as db:
        if not db[table].exists():
            raise OutOfStep(
                f"{db_path} has no table {table}, yet its state says it follows production"
                f"{_fresh_copy_hint()}"
            )
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        with db.atomic():
            built = ensure_table(db, table)
    if built:
        report(f"completed the mirror: {', '.join(built)}")


def _check_slot(url, slot, table):
    status = slot_status(url, slot)
    if not status.exists or status.wal_status == "lost":
        what = "no longer exists" if not status.exists else "was invalidated by PostgreSQL"
        raise OutOfStep(
            f"the slot {slot} that {table} follows {what}, so the changes since the mirror's "
            f"position are gone{_fresh_copy_hint(status)}"
        )


def _fresh_copy_hint(status=None):
    kept = ""
    if status is not None and status.wal_status == "lost":
        kept = " (it held more WAL than max_slot_wal_keep_size allows)"
    return f"{kept}: run sync --drop-slot, then sync --follow again, which copies afresh"


def _explain_stream_error(error, slot, table):
    """Turn the server's words for an invalidated slot into the way back."""
    text = str(error)
    gone = ("can no longer get changes", "has been invalidated", "has already been removed")
    if any(phrase in text for phrase in gone):
        raise OutOfStep(
            f"the slot {slot} that {table} follows was invalidated by PostgreSQL "
            f"({first_line(error)}){_fresh_copy_hint()}"
        ) from None


def _stream(stream, applier, options, followed):
    last_report = time.monotonic()
    reported = 0
    while not options.should_stop():
        payload = stream.read()
        if payload is None:
            if applier.at_boundary:
                young = MIN_GROUP_SECONDS - (time.monotonic() - applier.opened_at)
                if young <= 0:
                    _commit(stream, applier)
                else:  # more may come: commit once the group is old enough or something does
                    select.select([stream], [], [], young)
                continue
            if not applier.open and stream.server_position > applier.lsn:
                # Nothing of the table is under way: WAL the server has passed without a change
                # for the mirror (other tables', empty transactions) need not be kept for it.
                stream.confirm(stream.server_position)
            select.select([stream], [], [], IDLE_WAIT_SECONDS)
        else:
            message = decode(payload)
            if message is not None:
                applier.handle(message)
            if applier.at_boundary and (
                applier.pending["changes"] >= GROUP_CHANGES
                or time.monotonic() - applier.opened_at >= GROUP_SECONDS
            ):
                _commit(stream, applier)
        now = time.monotonic()
        if now - last_report >= options.report_every:
            done = applier.totals["transactions"]
            if done != reported:
                followed.lsn, followed.totals = applier.lsn, dict(applier.totals)
                options.report(str(followed))
                reported = done
            last_report = now
    if applier.at_boundary:
        _commit(stream, applier)


def _commit(stream, applier):
    applier.commit()
    stream.confirm(applier.lsn)


def _sleep(seconds, should_stop):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not should_stop():
        time.sleep(min(0.2, deadline - time.monotonic()))
