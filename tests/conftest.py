"""Fixtures, and the markers that split the suite (see CONTRIBUTING.md). What the tests share
beyond fixtures is in `support/`, which they import."""

import pytest
import pytest_asyncio
from datasette.app import Datasette
from datasette.plugins import pm
from support.postgres import Cluster, binaries
from support.sellers import build_sellers_db
from support.server import Server

# datasette-gzip and datasette-events-db are installed for the tests that serve them beside
# this plugin (see support/server.OPT_IN_PLUGINS); in process, as in every other server, they
# stay out.
for name in ("gzip", "events_db"):
    if pm.get_plugin(name) is not None:
        pm.unregister(name=name)

# Fixtures that start real processes: servers (and every fixture named `*_server`), a
# PostgreSQL cluster, Chromium.
SERVED_FIXTURES = {"serve", "served", "postgres", "browser"}
# Fixtures that make a Datasette instance in this process.
APP_FIXTURES = {"make_datasette", "ds"}


def pytest_collection_modifyitems(items):
    """Each test is `served` (it starts real processes), `app` (Datasette in this process,
    through its ASGI client) or `unit` (neither), by the fixtures it uses, unless it is marked
    so by hand (a test that runs a process of its own)."""
    for item in items:
        if item.get_closest_marker("served") or item.get_closest_marker("app"):
            continue
        names = set(item.fixturenames)
        if names & SERVED_FIXTURES or any(name.endswith("_server") for name in names):
            item.add_marker(pytest.mark.served)
        elif names & APP_FIXTURES:
            item.add_marker(pytest.mark.app)
        else:
            item.add_marker(pytest.mark.unit)


@pytest.fixture
def sellers_db(tmp_path):
    return build_sellers_db(
        tmp_path / "sellers.db",
        {"org-a": 250, "org-b": 40, "org-one": 1, "org-empty": 0, 'org/with "odd" id\r\n': 3},
    )


@pytest_asyncio.fixture
async def make_datasette():
    """Datasette instances on real files, started, and closed after the test."""
    instances = []

    async def make(
        *paths, plugin_config=None, config=None, metadata=None, root=False, settings=None
    ):
        config = dict(config or {})
        if plugin_config is not None:
            config.setdefault("plugins", {})["datasette-seller-export"] = plugin_config
        ds = Datasette([str(p) for p in paths], config=config, metadata=metadata, settings=settings)
        ds.root_enabled = root
        await ds.invoke_startup()
        instances.append(ds)
        return ds

    yield make
    for ds in instances:
        ds.close()


@pytest_asyncio.fixture
async def ds(make_datasette, sellers_db):
    return await make_datasette(sellers_db, root=True)


@pytest.fixture
def serve(tmp_path):
    """Start real `datasette serve` processes (support.server.Server); stopped after the test."""
    servers = []

    def start(*args, env_extra=None):
        server = Server(list(args), tmp_path / f"server-{len(servers)}.log", env_extra)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster for the session, a source of logical replication."""
    try:
        binaries()
    except RuntimeError as error:
        pytest.skip(str(error))
    cluster = Cluster().start()
    yield cluster
    cluster.stop()
