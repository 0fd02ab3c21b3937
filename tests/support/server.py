"""A real `datasette serve` process on 127.0.0.1, for the tests, the benchmarks and the stress
run alike. The standard library and Datasette only, so a benchmark needs no test extras."""

import importlib.metadata
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from datasette.app import Datasette

# The served instance's secret, so that a client can sign its own `ds_actor` cookie.
SECRET = "test-secret-for-signed-cookies"
START_TIMEOUT_SECONDS = 30


# Installed for the tests that serve it beside this plugin; every other server runs without it.
OPT_IN_PLUGINS = ("datasette-gzip", "datasette-events-db")


def installed_plugins(also=()):
    """The installed Datasette plugins a server loads: all but OPT_IN_PLUGINS, plus `also`,
    as DATASETTE_LOAD_PLUGINS names them."""
    names = {
        dist.metadata["Name"]
        for dist in importlib.metadata.distributions()
        if any(entry.group == "datasette" for entry in dist.entry_points)
    }
    return sorted(name for name in names if name not in OPT_IN_PLUGINS or name in also)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_demo_database(path, rows, orgs, seed):
    """Demo sellers at `path`, made by `datasette seller-export demo` as a user would."""
    command = ["seller-export", "demo", path, "--rows", rows, "--orgs", orgs, "--seed", seed]
    subprocess.run([sys.executable, "-m", "datasette", *map(str, command)], check=True)


def actor_cookie(actor, secret=SECRET):
    """The `ds_actor` cookie value that signs `actor` in on an instance with `secret`."""
    return Datasette(secret=secret).sign({"a": actor}, "actor")


class Server:
    """`datasette serve ARGS` with its output in `log_path`; `stop()` ends it."""

    def __init__(self, args, log_path, env_extra=None, plugins=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, DATASETTE_SECRET=SECRET, **(env_extra or {}))
        env["DATASETTE_LOAD_PLUGINS"] = ",".join(installed_plugins(also=plugins))
        # A file, not a pipe: a pipe nobody reads fills up with the access log and then
        # blocks the server on its next write.
        self.log_path = log_path
        self.log = open(log_path, "w")  # closed by stop()
        command = [sys.executable, "-m", "datasette", "serve", *args]
        self.process = subprocess.Popen(
            command + ["-p", str(self.port), "-h", "127.0.0.1"],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("datasette serve exited:\n" + self.output())
            try:
                urllib.request.urlopen(self.url + "/-/versions.json", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return  # it answers (a sign-in plugin may refuse a probe without credentials)
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"datasette serve did not start within {START_TIMEOUT_SECONDS} s")

    @property
    def pid(self):
        return self.process.pid

    def open_files(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def describe_open_files(self):
        """What each open descriptor is, for a message when one too many is open."""
        fd_dir = f"/proc/{self.pid}/fd"
        targets = []
        for fd in os.listdir(fd_dir):
            try:
                targets.append(os.readlink(os.path.join(fd_dir, fd)))
            except OSError:
                pass
        return sorted(targets)

    def threads(self):
        return len(os.listdir(f"/proc/{self.pid}/task"))

    def rss_kb(self):
        with open(f"/proc/{self.pid}/status") as fp:
            return next(int(line.split()[1]) for line in fp if line.startswith("VmRSS:"))

    def cookies(self, actor):
        return {"ds_actor": actor_cookie(actor)}

    def hang_up_after(self, path, actor, byte_count):
        """GET `path` over a raw socket and hang up after reading about `byte_count` bytes."""
        cookie = "ds_actor=" + actor_cookie(actor)
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=60)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n".encode())
        received = 0
        while received < byte_count:
            data = sock.recv(65536)
            if not data:
                break
            received += len(data)
        sock.close()

    def stop(self):
        """Stop the server and return everything it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.output()

    def output(self):
        with open(self.log_path) as fp:
            return fp.read()
