"""What installing the plugin adds to every `datasette` command's start: each command run with
the plugin loaded and without it (DATASETTE_LOAD_PLUGINS empty), in pairs, A B A B ..., so that
drift of the machine's speed falls on both; prints the medians and the median of the pairs'
differences.

    .venv/bin/python benchmarks/startup.py --pairs 30
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

DATASETTE = os.path.join(os.path.dirname(sys.executable), "datasette")
COMMANDS = {
    "datasette --help": [DATASETTE, "--help"],
    "serve --memory --get /-/versions.json": [
        DATASETTE,
        "serve",
        "--memory",
        "--get",
        "/-/versions.json",
    ],
}


def seconds(command, plugins):
    env = dict(os.environ, DATASETTE_LOAD_PLUGINS=plugins)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=30)
    args = parser.parse_args()
    print("| command | with the plugin | without | added (median of pairs) |")
    print("|---|---|---|---|")
    for name, command in COMMANDS.items():
        seconds(command, "datasette-seller-export")  # warm the page cache
        with_plugin, without, added = [], [], []
        for _ in range(args.pairs):
            a = seconds(command, "datasette-seller-export")
            b = seconds(command, "")
            with_plugin.append(a)
            without.append(b)
            added.append(a - b)
        print(
            f"| `{name}` | {statistics.median(with_plugin) * 1000:.0f} ms "
            f"| {statistics.median(without) * 1000:.0f} ms "
            f"| {statistics.median(added) * 1000:+.0f} ms |"
        )


if __name__ == "__main__":
    main()
