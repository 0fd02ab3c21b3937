"""The documentation that is generated from the code agrees with it."""

import os

from cogapp import Cog
from support.sellers import REPO


def test_the_cli_reference_is_the_commands_own_help():
    """docs/cli.md holds every command's --help; `cog -r docs/cli.md` writes it anew."""
    status = Cog().main(["cog", "--check", os.path.join(REPO, "docs", "cli.md")])
    assert status == 0, "docs/cli.md is stale: run cog -r docs/cli.md"
