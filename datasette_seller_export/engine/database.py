"""Running the engine's queries: on Datasette's own database connections, or on threads of
the command line's."""

import asyncio
import concurrent.futures
import contextlib
import itertools
import math
import threading
import time
import weakref

from datasette.database import QueryInterrupted
from datasette.utils.sqlite import sqlite3  # Datasette's: pysqlite3 when installed

# How many SQLite VM instructions run between two checks of the time limit: a small
# part of one batch's work. Datasette checks every 1,000, which calls into Python (and takes the
# GIL) hundreds of times per batch and stops concurrent exports from using more than one core.
TIME_LIMIT_CHECK_INSTRUCTIONS = 100_000
# A query with a budget of work checks it this often (or, with a smaller budget, every budget).
BUDGET_CHECK_INSTRUCTIONS = 10_000


@contextlib.contextmanager
def time_limit(conn, milliseconds, budget=None, stop=None):
    """Interrupt the query once `milliseconds` have passed (never, for None) or, with a
    `budget`, once it has run about that many SQLite VM instructions: a bound on its work
    that is the same on every machine; or once the threading.Event `stop` is set."""
    deadline = math.inf if milliseconds is None else time.perf_counter() + milliseconds / 1000
    every = (
        TIME_LIMIT_CHECK_INSTRUCTIONS if budget is None else min(budget, BUDGET_CHECK_INSTRUCTIONS)
    )
    checks = itertools.count(1)
    most_checks = None if budget is None else budget // every

    def interrupt():  # true interrupts the query
        over_budget = most_checks is not None and next(checks) > most_checks
        stopped = stop is not None and stop.is_set()
        return over_budget or stopped or time.perf_counter() >= deadline

    conn.set_progress_handler(interrupt, every)
    try:
        # A query shorter than `every` instructions is never checked while it runs: the
        # caller asks afterwards whether it ran past the limit all the same.
        yield lambda: time.perf_counter() >= deadline
    finally:
        conn.set_progress_handler(None, every)


def _run(conn, sql, params, time_limit_ms, budget, stop):
    """One query on `conn`, its rows as plain tuples; QueryInterrupted past its bounds."""
    if stop.is_set():  # cancelled while it waited for a thread
        raise QueryInterrupted(sqlite3.OperationalError("cancelled"), sql, params)
    with time_limit(conn, time_limit_ms, budget, stop) as overdue:
        cursor = conn.cursor()
        cursor.row_factory = None
        try:
            rows = cursor.execute(sql, params).fetchall()
            if overdue():
                raise sqlite3.OperationalError("interrupted")
            return rows
        except sqlite3.OperationalError as error:
            if error.args == ("interrupted",):
                raise QueryInterrupted(error, sql, params) from error
            raise
        finally:
            cursor.close()


async def _stoppable(run_in_thread):
    """Await `run_in_thread(stop)`, a query on a worker thread. Cancelled, it sets `stop`,
    which interrupts the query within a millisecond of work (or before it starts, if it is
    still waiting for a thread), and waits for the thread to let go: an abandoned export
    leaves no query running on the threads other requests need."""
    stop = threading.Event()
    work = asyncio.ensure_future(run_in_thread(stop))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        stop.set()
        await asyncio.wait([work])
        if not work.cancelled():
            work.exception()  # retrieved: the interruption is expected, not to be logged
        raise


def datasette_execute(datasette, db):
    """The keyset engine's `execute` for a Datasette database: each batch runs on Datasette's
    read connections and thread pool, bound by `sql_time_limit_ms` as `db.execute` would be.

    It goes through `execute_fn` rather than `db.execute` for the sake of concurrency: a
    plain cursor, and a time limit checked every millisecond rather than every few
    microseconds (see TIME_LIMIT_CHECK_INSTRUCTIONS), and once more when it ends. A `budget`
    of VM instructions bounds a query's work as well: past it, as past the time limit,
    QueryInterrupted. Cancelling the
    await stops the query (see _stoppable).
    """
    default_time_limit_ms = datasette.setting("sql_time_limit_ms")

    async def execute(sql, params, budget=None, time_limit_ms=None, time_share=1.0):
        # Facets have a limit of their own; a batch smaller than the batch size (the first of
        # an export, batches.FIRST_BATCH_ROWS) has its share of the limit, so that a batch
        # size too slow for sql_time_limit_ms fails before the first byte, as a 503.
        limit = (time_limit_ms or default_time_limit_ms) * time_share
        return await _stoppable(
            lambda stop: db.execute_fn(lambda conn: _run(conn, sql, params, limit, budget, stop))
        )

    return execute


@contextlib.asynccontextmanager
async def threaded_execute(path, threads, prepare):
    """The keyset engine's `execute` for the SQLite file at `path` without Datasette (the
    command line): `threads` worker threads, each with its own connection, made ready by
    `prepare(conn)`; no time limit. Cancelling the await stops the query, as above."""
    local, connections = threading.local(), []

    def connection():
        if not hasattr(local, "conn"):
            local.conn = sqlite3.connect(path, check_same_thread=False)
            prepare(local.conn)
            connections.append(local.conn)
        return local.conn

    executor = concurrent.futures.ThreadPoolExecutor(threads, "seller-export")
    loop = asyncio.get_running_loop()

    async def execute(sql, params, budget=None, time_share=1.0):  # no limit to share
        return await _stoppable(
            lambda stop: loop.run_in_executor(
                executor, lambda: _run(connection(), sql, params, None, budget, stop)
            )
        )

    try:
        yield execute
    finally:
        executor.shutdown(wait=True)
        for conn in connections:
            conn.close()


class SharedThreads:
    """At most `count` queries of whole exports at once on a Datasette instance, however many
    exports run: Datasette's read threads serve every request, so exports leave one free."""

    def __init__(self, count):
        self.count = count
        self._semaphores = weakref.WeakKeyDictionary()  # one per event loop

    def limit(self, execute):
        """`execute`, waiting for a free place before each query."""

        async def limited(sql, params, **options):
            loop = asyncio.get_running_loop()
            semaphore = self._semaphores.get(loop)
            if semaphore is None:
                semaphore = self._semaphores[loop] = asyncio.Semaphore(self.count)
            async with semaphore:
                return await execute(sql, params, **options)

        return limited
