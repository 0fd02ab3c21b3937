"""`datasette seller-export`, as every `datasette` command sees it: a group whose subcommands
(cli.py, with the mirror's writers behind them) are imported only when one of them is asked
for, so that `datasette serve` and `datasette --help` do not import them."""

import click

HELP = "Work with a SQLite mirror of the sellers table."


class _LazyGroup(click.Group):
    def _group(self):
        from .cli import seller_export

        return seller_export

    def list_commands(self, ctx):
        return self._group().list_commands(ctx)

    def get_command(self, ctx, name):
        return self._group().get_command(ctx, name)


seller_export = _LazyGroup(name="seller-export", help=HELP)
