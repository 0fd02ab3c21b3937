"""Test-only plugin, loaded into a served Datasette with --plugins-dir: it appends every
Datasette event, as a line of JSON (name, actor, properties), to the file that the
environment variable TEST_EVENTS_FILE names, and records nothing when it is unset."""

import json
import os

from datasette import hookimpl


@hookimpl
def track_event(datasette, event):
    path = os.environ.get("TEST_EVENTS_FILE")
    if not path:
        return
    line = {"name": event.name, "actor": event.actor, "properties": event.properties()}
    with open(path, "a") as file:
        file.write(json.dumps(line) + "\n")
