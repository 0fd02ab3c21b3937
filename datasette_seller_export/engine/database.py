"""Running the keyset engine's queries on Datasette's own database connections."""

import contextlib
import time

from datasette.database import QueryInterrupted
from datasette.utils.sqlite import sqlite3  # Datasette's: pysqlite3 when installed

# How many SQLite VM instructions run between two checks of the time limit: about a
# millisecond of work. Datasette checks every 1,000, which calls into Python (and takes the
# GIL) hundreds of times per batch and stops concurrent exports from using both cores.
TIME_LIMIT_CHECK_INSTRUCTIONS = 100_000


@contextlib.contextmanager
def time_limit(conn, milliseconds):
    deadline = time.perf_counter() + milliseconds / 1000

    def past_deadline():
        return time.perf_counter() >= deadline  # true interrupts the query

    conn.set_progress_handler(past_deadline, TIME_LIMIT_CHECK_INSTRUCTIONS)
    try:
        yield
    finally:
        conn.set_progress_handler(None, TIME_LIMIT_CHECK_INSTRUCTIONS)


def datasette_execute(datasette, db):
    """The keyset engine's `execute` for a Datasette database: each batch runs on Datasette's
    read connections and thread pool, bound by `sql_time_limit_ms` as `db.execute` would be.

    It goes through `execute_fn` rather than `db.execute` for the sake of concurrency: a
    plain cursor, and a time limit checked every millisecond rather than every few
    microseconds (see TIME_LIMIT_CHECK_INSTRUCTIONS).
    """
    time_limit_ms = datasette.setting("sql_time_limit_ms")

    def run(sql, params, conn):
        with time_limit(conn, time_limit_ms):
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

    async def execute(sql, params):
        return await db.execute_fn(lambda conn: run(sql, params, conn))

    return execute


def connection_execute(conn):
    """The keyset engine's `execute` for a plain sqlite3 connection (the command line)."""

    async def execute(sql, params):
        return conn.execute(sql, params).fetchall()

    return execute
