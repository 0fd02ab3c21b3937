"""A throwaway PostgreSQL server for the tests and the benchmarks: Debian's `postgresql`
binaries, a new cluster in a temporary folder owned by a non-root user, on 127.0.0.1 and a free
port, with password authentication over TCP (so that bad credentials can be shown to fail).
"""

import glob
import os
import shutil
import subprocess
import tempfile

from .server import free_port

USER = "postgres"  # the operating-system user the server runs as, and its superuser
PASSWORD = "test-password"
DATABASE = "production"


def binaries():
    """The folder of initdb and pg_ctl: on PATH, or Debian's newest /usr/lib/postgresql/N/bin."""
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(found)
    folders = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(path.split("/")[4]),
    )
    if not folders:
        raise RuntimeError(
            "no PostgreSQL server binaries: install Debian's postgresql package "
            "(`.ci/run` does so on a new machine)"
        )
    return os.path.dirname(folders[-1])


class Cluster:
    """`start()` a new cluster, `url` to reach it, `stop()` to end it and remove its files.
    `settings` are the server's (`-c name=value`) beside the defaults below, which make it a
    source of logical replication; `wal_segment_mb` makes small WAL segments, so that a test
    can make a slot lose its WAL quickly."""

    def __init__(self, settings=None, wal_segment_mb=None):
        self.settings = {"wal_level": "logical", **(settings or {})}
        self.wal_segment_mb = wal_segment_mb
        self.folder = tempfile.mkdtemp(prefix="seller-export-pg-")
        self.data = os.path.join(self.folder, "data")
        self.port = free_port()
        self.url = f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"
        self.bin = binaries()

    def _run(self, *command):
        # PostgreSQL refuses to run as root, so it runs as its own user where we are root.
        prefix = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []
        return subprocess.run(
            prefix + list(command), check=True, capture_output=True, text=True, cwd=self.folder
        )

    def start(self):
        if os.geteuid() == 0:
            shutil.chown(self.folder, USER)
        password_file = os.path.join(self.folder, "password")
        with open(password_file, "w") as out:
            out.write(PASSWORD)
        if os.geteuid() == 0:
            shutil.chown(password_file, USER)
        self._run(
            os.path.join(self.bin, "initdb"),
            "-D",
            self.data,
            "-U",
            USER,
            f"--pwfile={password_file}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            *([f"--wal-segsize={self.wal_segment_mb}"] if self.wal_segment_mb else []),
        )
        self._pg_ctl("start")
        self.psql("CREATE DATABASE " + DATABASE, database="postgres")
        return self

    def _pg_ctl(self, action):
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} "
            # A throwaway server need not survive a power cut.
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            + " ".join(f"-c {name}={value}" for name, value in self.settings.items())
        )
        log = os.path.join(self.folder, "log")
        self._run(
            os.path.join(self.bin, "pg_ctl"),
            action,
            "-w",
            "-D",
            self.data,
            "-l",
            log,
            "-o",
            options,
        )

    def restart(self):
        """Stop the server as a crash would (`immediate`) and start it again."""
        self._run(os.path.join(self.bin, "pg_ctl"), "stop", "-m", "immediate", "-D", self.data)
        self._pg_ctl("start")

    def psql(self, sql, database=DATABASE):
        """Run `sql` with psql over the cluster's socket; its output."""
        return self._run(
            "psql",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            self.folder,
            "-p",
            str(self.port),
            "-U",
            USER,
            "-d",
            database,
            "-c",
            sql,
        ).stdout

    def stop(self):
        try:
            self._run(os.path.join(self.bin, "pg_ctl"), "stop", "-m", "immediate", "-D", self.data)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


# Production's table as the tests and the benchmark make it. org_id may be NULL here, so that
# a bad row can be made; production would say NOT NULL.
PRODUCTION_TABLE_SQL = """
CREATE TABLE {table} (
    id {id_type} PRIMARY KEY,
    org_id text,
    display_name text,
    normalized_name text,
    platform text,
    platform_id text,
    times_seen integer NOT NULL DEFAULT 0,
    feedback_percent double precision,
    feedback_count integer,
    flagged boolean NOT NULL DEFAULT false,
    first_seen_run_id text,
    last_seen_run_id text,
    created_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    deleted_at timestamptz
);
CREATE INDEX ON {table} (updated_at);
"""


def load_production(url, records, columns, table="sellers", time_zone="UTC", id_type="text"):
    """A new production `table` holding `records` (sequences of `columns`' values; text
    timestamps are read in `time_zone`, as a session there would), its ids of `id_type`."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
        conn.execute(PRODUCTION_TABLE_SQL.format(table=table, id_type=id_type))
        conn.execute("SELECT set_config('TimeZone', %s, false)", (time_zone,))
        with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(record)
