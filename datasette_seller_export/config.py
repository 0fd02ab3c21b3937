"""The plugin's configuration: read once at startup, validated, kept per Datasette instance.

A mistake in it stops Datasette with a `StartupError` that names the key and the fix, rather
than a 500 on the first export.
"""

import logging
import weakref
from dataclasses import dataclass, replace
from typing import Callable, Optional, Tuple

import sqlite_utils
from datasette.plugins import pm
from datasette.utils import StartupError
from datasette.utils.sqlite import sqlite3, using_pysqlite3  # pysqlite3 when installed

from . import memberships
from .engine.schema import STATE_TABLE, fts_tables, sqlite_version_problem, table_problem
from .engine.schema import search_index as find_search_index

PLUGIN_NAME = "datasette-seller-export"
log = logging.getLogger("datasette_seller_export")
MAX_BATCH_SIZE = 10_000
# Chosen by `benchmarks/run.py --batch-sizes`: throughput flattens past 2,000 rows a batch,
# while time to first byte, memory, and the work wasted after a hang-up keep growing.
DEFAULT_BATCH_SIZE = 2_000
MAX_PARALLEL_BATCHES = 16
# Chosen by `benchmarks/run.py --parallel` (docs/benchmarks.md#parallel-batches).
DEFAULT_PARALLEL_BATCHES = 2


@dataclass(frozen=True)
class Limits:
    """Where the plans of a search and the browse page's count change course. Each path is
    tested by setting these low (see `replace_config`)."""

    # A page of a search whose index matches at most this many rows in the whole table reads
    # them first (see plans.with_search_plan).
    page_matches: int = 10_000
    # A whole export of such a search lists them first (see batches.listed_batches); past
    # this many, listing them could outrun Datasette's time limit.
    export_matches: int = 200_000
    # The work a page of a search may spend checking rows by their names before it asks the
    # index instead (see paging._fetch), in SQLite VM instructions: about 3,000 rows' worth.
    name_check_budget: int = 50_000
    # Counting a big organisation's live rows reads each row: the browse page counts up to
    # this many, and says "more than" past it.
    count_limit: int = 10_000
    # A table of at most this many rows may be scanned whole, in storage order, for a filter
    # no index serves (see plans.rows_to_scan): 0.25 s a million rows here, so within
    # Datasette's default time limit of a second on a host twice as slow.
    scan_rows: int = 2_000_000


@dataclass(frozen=True)
class Config:
    database: Optional[str]  # None: the plugin is idle (see idle_reason)
    table: str = "sellers"
    batch_size: int = DEFAULT_BATCH_SIZE
    csv_escape_formulas: bool = True
    protect_raw_table: bool = True
    memberships_table: str = memberships.DEFAULT_TABLE
    search_index: Optional[str] = None  # the FTS5 trigram table, when the mirror has one
    parallel_batches: int = DEFAULT_PARALLEL_BATCHES
    # Whether each page of the API and the browse page is a `seller-page` event (events.py).
    track_pages: bool = True
    limits: Limits = Limits()
    # What other plugins wrap the engine's `execute` in (hook seller_export_wrap_execute).
    execute_wrappers: Tuple[Callable, ...] = ()
    # Why the plugin serves no sellers, for its 404s; None when active.
    idle_reason: Optional[str] = None
    # Whether startup warns of it: when it found a table it would not serve, not when the
    # instance has no sellers table at all (most instances a plugin is installed beside).
    idle_warning: bool = True
    # Mirrors locked although the plugin is idle: several databases hold one and no setting
    # says which to serve, yet each would show every organisation on Datasette's own pages.
    idle_mirrors: Tuple[str, ...] = ()

    @property
    def protected_tables(self):
        """The tables Datasette's own pages must not show to an organisation's users."""
        return (self.table, self.memberships_table, STATE_TABLE) + fts_tables(self.table)

    @property
    def locked_databases(self):
        """The databases whose protected tables are locked: the one served, or, while idle,
        every mirror found."""
        return (self.database,) if self.database is not None else self.idle_mirrors

    def wrap_execute(self, execute):
        for wrap in self.execute_wrappers:
            execute = wrap(execute)
        return execute

    def is_sellers_table(self, database, table):
        return self.database is not None and (database, table) == (self.database, self.table)


_KEYS = {
    "database": (str, 'the name of an attached database, e.g. "sellers"'),
    "table": (str, 'a table name, e.g. "sellers"'),
    "batch_size": (int, f"a whole number from 1 to {MAX_BATCH_SIZE:,}"),
    "csv_escape_formulas": (bool, "true or false"),
    "protect_raw_table": (bool, "true or false"),
    "memberships_table": (str, 'a table name, e.g. "seller_export_memberships"'),
    "parallel_batches": (int, f"a whole number from 1 to {MAX_PARALLEL_BATCHES}"),
    "track_pages": (bool, "true or false"),
}

_configs = weakref.WeakKeyDictionary()


def _fail(message):
    raise StartupError(f"{PLUGIN_NAME}: {message}")


def _check_types(raw):
    if not isinstance(raw, dict):
        _fail(f"its configuration must be a mapping of settings, not {type(raw).__name__}")
    for key, value in raw.items():
        if key not in _KEYS:
            _fail(f"unknown setting {key!r}; the settings are: {', '.join(_KEYS)}")
        expected, hint = _KEYS[key]
        # bool is an int in Python; a batch size of `true` is a mistake all the same.
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            _fail(f"setting {key!r} must be {hint}, not {value!r}")
    for key, most in (("batch_size", MAX_BATCH_SIZE), ("parallel_batches", MAX_PARALLEL_BATCHES)):
        value = raw.get(key, 1)
        if not 1 <= value <= most:
            _fail(f"setting {key!r} must be {_KEYS[key][1]}, not {value!r}")


async def _databases_with_table(datasette, table):
    names = []
    for name, db in datasette.databases.items():
        if name == "_internal":
            continue
        if await db.table_exists(table):
            names.append(name)
    return names


def _idle(table, reason, mirrors=(), warn=True) -> Config:
    """The configuration of a plugin with no business on this instance: its endpoints answer
    404 saying why, and startup says it once in the log (`warn`)."""
    message = f"{PLUGIN_NAME} is idle: {reason}"
    return Config(
        database=None,
        table=table,
        idle_reason=message,
        idle_mirrors=tuple(mirrors),
        idle_warning=warn,
    )


async def _find_mirror(datasette, raw, table):
    """The one attached database whose `table` is a sellers mirror, or an idle Config saying
    why there is none. A table of another shape, or mirrors in several databases, leave the
    plugin idle rather than stop an instance it was merely installed on; a `table` setting
    that names nothing usable is a mistake, and stops startup."""
    candidates = await _databases_with_table(datasette, table)
    problems = {}
    for name in candidates:
        problems[name] = await datasette.get_database(name).execute_fn(
            lambda conn: table_problem(sqlite_utils.Database(conn), table)
        )
    mirrors = [name for name in candidates if problems[name] is None]
    if len(mirrors) == 1:
        return mirrors[0]
    choose = "choose one with the setting 'database'"
    if mirrors:
        return _idle(
            table,
            f"tables named {table!r} are in several databases ({', '.join(mirrors)}); {choose}",
            mirrors,
        )
    if "table" in raw:
        if not candidates:
            _fail(f"no attached database has the table {table!r} named by setting 'table'")
        _fail(f"database {candidates[0]!r}: {problems[candidates[0]]}")
    if not candidates:
        return _idle(table, f"no attached database has a {table!r} table", warn=False)
    found = "; ".join(f"database {name!r}: {problems[name]}" for name in candidates)
    return _idle(
        table,
        f"{found}. If that is not a sellers mirror, nothing is wrong; to serve a mirror, "
        "name it with the settings 'database' and 'table'",
    )


async def load_config(datasette) -> Config:
    """Validate the plugin's settings against the attached databases; raise StartupError."""
    raw = datasette.plugin_config(PLUGIN_NAME) or {}
    _check_types(raw)
    problem = sqlite_version_problem(sqlite3.sqlite_version_info, using_pysqlite3)
    if problem:
        _fail(problem)
    table = raw.get("table", "sellers")
    database = raw.get("database")
    if database is None:
        found = await _find_mirror(datasette, raw, table)
        if isinstance(found, Config):
            return found
        database = found
    else:  # a database named by the setting (_find_mirror checked the one it found)
        if database not in datasette.databases:
            _fail(
                f"setting 'database' names {database!r}, which is not attached; attached: "
                + ", ".join(n for n in datasette.databases if n != "_internal")
            )
        problem = await datasette.get_database(database).execute_fn(
            lambda conn: table_problem(sqlite_utils.Database(conn), table)
        )
        if problem:
            _fail(f"database {database!r}: {problem}")
    search_index = await datasette.get_database(database).execute_fn(
        lambda conn: find_search_index(sqlite_utils.Database(conn), table)
    )
    memberships_table = raw.get("memberships_table", memberships.DEFAULT_TABLE)
    await _check_memberships_table(
        datasette, database, memberships_table, "memberships_table" in raw
    )
    return Config(
        database=database,
        table=table,
        batch_size=raw.get("batch_size", DEFAULT_BATCH_SIZE),
        csv_escape_formulas=raw.get("csv_escape_formulas", True),
        protect_raw_table=raw.get("protect_raw_table", True),
        memberships_table=memberships_table,
        search_index=search_index,
        parallel_batches=raw.get("parallel_batches", DEFAULT_PARALLEL_BATCHES),
        track_pages=raw.get("track_pages", True),
        execute_wrappers=tuple(
            wrap for wrap in pm.hook.seller_export_wrap_execute(datasette=datasette) if wrap
        ),
    )


async def _check_memberships_table(datasette, database, table, given):
    """A memberships table named by the setting must be there; the default one is optional,
    but when it is there it must be usable."""
    db = datasette.get_database(database)
    if not given and not await db.table_exists(table):
        return
    problem = await db.execute_fn(
        lambda conn: memberships.table_problem(sqlite_utils.Database(conn), table)
    )
    if problem:
        _fail(f"setting 'memberships_table': database {database!r}: {problem}")


async def startup(datasette):
    config = _configs[datasette] = await load_config(datasette)
    if config.idle_reason and config.idle_warning:
        log.warning(config.idle_reason)


async def config_for_checks(datasette) -> Config:
    """The configuration, read now if Datasette's startup has not read it yet: another
    plugin's startup hook may check a permission before this plugin's has run, and the lock
    on the raw table must hold then too. Startup reads it again, since other plugins' startup
    may still change the databases."""
    config = _configs.get(datasette)
    if config is None:
        config = _configs[datasette] = await load_config(datasette)
    return config


def get_config(datasette) -> Config:
    """The configuration read at startup (Datasette runs startup before serving anything)."""
    try:
        return _configs[datasette]
    except KeyError:
        message = f"{PLUGIN_NAME}: configuration used before Datasette's startup"
        raise RuntimeError(message) from None


def replace_config(datasette, **changes) -> Config:
    """From now on, the instance's configuration with `changes` (e.g. `limits=Limits(...)`):
    for tests, and for code that embeds Datasette, to set what no plugin setting sets."""
    config = _configs[datasette] = replace(get_config(datasette), **changes)
    return config
