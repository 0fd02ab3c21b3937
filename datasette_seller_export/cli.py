"""`datasette seller-export ...`: the command line for the SQLite mirror."""

import sys

import click
import sqlite_utils

from .mirror import demo_rows
from .schema import ensure_table

INSERT_BATCH_SIZE = 5_000


@click.group(name="seller-export")
def seller_export():
    """Work with a SQLite mirror of the sellers table."""


def _table_option(function):
    return click.option(
        "--table", default="sellers", show_default=True, help="Name of the sellers table"
    )(function)


_db_argument = click.argument("db_path", metavar="DB", type=click.Path(dir_okay=False))


@seller_export.command()
@_db_argument
@_table_option
def init(db_path, table):
    """Create the sellers table and its keyset index in DB, or add what an existing mirror
    lacks. Safe to run again."""
    db = sqlite_utils.Database(db_path)
    changes = ensure_table(db, table)
    for change in changes:
        click.echo(change)
    if not changes:
        click.echo(f"{db_path}: table {table} and its index are already in place")


@seller_export.command()
@_db_argument
@_table_option
@click.option("--rows", type=click.IntRange(min=0), default=10_000, show_default=True,
              help="Rows in all, soft-deleted ones included")
@click.option("--orgs", type=click.IntRange(min=1), default=5, show_default=True,
              help="Organisations to spread them over")
@click.option("--seed", type=int, default=1, show_default=True,
              help="The same seed always gives the same data")
def demo(db_path, table, rows, orgs, seed):
    """Fill DB with realistic demo sellers: unicode, commas, quotes, newlines, formula-like
    names, ties on created_at, NULLs and soft-deleted rows. Rows with the same ids are
    replaced, so running it again with the same seed changes nothing."""
    db = sqlite_utils.Database(db_path)
    ensure_table(db, table)
    with click.progressbar(length=rows, label="Writing demo sellers", file=sys.stderr) as bar:
        def counted():
            for count, row in enumerate(demo_rows(rows, orgs, seed), start=1):
                if count % INSERT_BATCH_SIZE == 0:
                    bar.update(INSERT_BATCH_SIZE)
                yield row
            bar.update(rows % INSERT_BATCH_SIZE)

        # One transaction: sqlite-utils would otherwise commit (and sync) every few rows.
        with db.atomic():
            db[table].insert_all(counted(), batch_size=INSERT_BATCH_SIZE, replace=True)
    click.echo(f"{db_path}: {rows:,} demo sellers in {orgs} organisations (seed {seed})")
