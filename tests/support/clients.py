"""Ways the tests talk to the plugin: its API paged through, its command line in process, a
served instance's configuration, and raw HTTP that undoes nothing."""

import json
import os
import socket
import subprocess
import sys
import urllib.parse

from click.testing import CliRunner
from datasette.cli import cli

from .sellers import ROOT

TEST_PLUGINS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "plugins")


def served_config(directory, name="datasette.json", settings=None, **plugin):
    """Arguments for `datasette serve`: a configuration file in `directory` that lets ADMIN
    read any organisation, with `plugin` as this plugin's settings; the test plugins (fault
    injection); and Datasette's `settings`."""
    config = os.path.join(directory, name)
    with open(config, "w") as file:
        json.dump(
            {
                "permissions": {"seller_collection.read_any_org": {"id": "admin"}},
                "plugins": {"datasette-seller-export": plugin},
            },
            file,
        )
    args = ["-c", config, "--plugins-dir", TEST_PLUGINS]
    for setting, value in (settings or {}).items():
        args += ["--setting", setting, str(value)]
    return args


def check_link(body, response, rel):
    """`rel`'s token, URL and Link header agree; returns the URL's path and query, or None."""
    links = response.headers.get("link", "")
    if body[rel] is None:
        assert body[f"{rel}_url"] is None and f'rel="{rel}"' not in links
        return None
    assert f'<{body[f"{rel}_url"]}>; rel="{rel}"' in links
    parsed = urllib.parse.urlsplit(body[f"{rel}_url"])
    assert dict(urllib.parse.parse_qsl(parsed.query))["_next"] == body[rel]
    return parsed.path + "?" + parsed.query


async def page_through(ds, query, actor=ROOT, limit=10_000, rel="next", path=None):
    """Follow `rel` (`next`, or `prev` from `path`) from the first page to the last; return
    (rows, pages), each page's rows in the order the page shows them."""
    rows, pages, path = [], [], path or f"/-/sellers.json?{query}"
    while path and len(pages) < limit:
        response = await ds.client.get(path, actor=actor)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ok"] is True
        assert set(body) == {"ok", "rows", "next", "next_url", "prev", "prev_url"}
        if not pages and rel == "next":
            assert body["prev"] is None  # the first page has none before it
        rows = rows + body["rows"] if rel == "next" else body["rows"] + rows
        pages.append(response)
        other = check_link(body, response, "prev" if rel == "next" else "next")
        if len(pages) > 1:
            assert other is not None  # every page but the first has a way back
        path = check_link(body, response, rel)
    return rows, pages


def run_cli(*args):
    """`datasette seller-export ARGS...` through Datasette's own command line, in process."""
    return CliRunner().invoke(
        cli, ["seller-export", *[str(a) for a in args]], catch_exceptions=False
    )


def run_datasette_with(packages, directory, *args):
    """`datasette ARGS...` in a process of its own whose imports find PACKAGES first (a dict of
    package name to its files' texts, written under DIRECTORY): a stand-in for a missing or
    different dependency, without touching this process's modules."""
    for package, files in packages.items():
        (directory / package).mkdir(parents=True)
        for name, text in files.items():
            (directory / package / name).write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "datasette", *[str(a) for a in args]],
        env={**os.environ, "PYTHONPATH": str(directory)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def raw_get(server, path, actor, read_chunks=None, headers=(), method="GET"):
    """A request over a raw socket, the chunked body decoded by hand and nothing else (no
    content coding undone): `(status, headers, chunks, complete)`. With `read_chunks`, hang
    up after that many chunks; `headers` are more request headers, as (name, value) pairs."""
    cookie = "ds_actor=" + server.cookies(actor)["ds_actor"]
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", f"Cookie: {cookie}"]
    lines += [f"{name}: {value}" for name, value in headers]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    reader = sock.makefile("rb")
    status = int(reader.readline().split()[1])
    answer = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        answer[name.lower()] = value.strip()
    chunks, complete = [], method == "HEAD"
    if not complete and "content-length" in answer:  # a body sent whole, not chunked
        chunks.append(reader.read(int(answer["content-length"])))
        complete = len(chunks[0]) == int(answer["content-length"])
    try:
        while not complete and (read_chunks is None or len(chunks) < read_chunks):
            size_line = reader.readline()
            if not size_line:
                break  # the server closed the connection mid-body
            size = int(size_line.strip(), 16)
            if size == 0:
                complete = reader.readline() == b"\r\n"
                break
            chunks.append(reader.read(size))
            reader.readline()
    finally:
        reader.close()
        sock.close()
    return status, answer, chunks, complete
