"""Running the keyset engine's queries on Datasette's own database connections."""

import contextlib
import itertools
import time

from datasette.database import QueryInterrupted
from datasette.utils.sqlite import sqlite3  # Datasette's: pysqlite3 when installed

# How many SQLite VM instructions run between two checks of the time limit: about a
# millisecond of work. Datasette checks every 1,000, which calls into Python (and takes the
# GIL) hundreds of times per batch and stops concurrent exports from using both cores.
TIME_LIMIT_CHECK_INSTRUCTIONS = 100_000
# A query with a budget of work checks it this often.
BUDGET_CHECK_INSTRUCTIONS = 10_000


@contextlib.contextmanager
def time_limit(conn, milliseconds, budget=None):
    """Interrupt the query once `milliseconds` have passed or, with a `budget`, once it has
    run about that many SQLite VM instructions: a bound on its work that is the same on
    every machine."""
    deadline = time.perf_counter() + milliseconds / 1000
    every = TIME_LIMIT_CHECK_INSTRUCTIONS if budget is None else BUDGET_CHECK_INSTRUCTIONS
    checks = itertools.count(1)
    most_checks = None if budget is None else budget // every

    def stop():  # true interrupts the query
        over_budget = most_checks is not None and next(checks) > most_checks
        return over_budget or time.perf_counter() >= deadline

    conn.set_progress_handler(stop, every)
    try:
        yield
    finally:
        conn.set_progress_handler(None, every)


def datasette_execute(datasette, db):
    """The keyset engine's `execute` for a Datasette database: each batch runs on Datasette's
    read connections and thread pool, bound by `sql_time_limit_ms` as `db.execute` would be.

    It goes through `execute_fn` rather than `db.execute` for the sake of concurrency: a
    plain cursor, and a time limit checked every millisecond rather than every few
    microseconds (see TIME_LIMIT_CHECK_INSTRUCTIONS). A `budget` of VM instructions bounds a
    query's work as well: past it, as past the time limit, QueryInterrupted.
    """
    time_limit_ms = datasette.setting("sql_time_limit_ms")

    def run(sql, params, conn, budget):
        with time_limit(conn, time_limit_ms, budget):
            cursor = conn.cursor()
            cursor.row_factory = None
            try:
                return cursor.execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:
                if error.args == ("interrupted",):
                    raise QueryInterrupted(error, sql, params) from error
                raise
            finally:
                cursor.close()

    async def execute(sql, params, budget=None):
        return await db.execute_fn(lambda conn: run(sql, params, conn, budget))

    return execute


def connection_execute(conn):
    """The keyset engine's `execute` for a plain sqlite3 connection (the command line)."""

    async def execute(sql, params):
        return conn.execute(sql, params).fetchall()

    return execute
