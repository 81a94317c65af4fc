"""The project's real ASGI server, run as a subprocess against the test database.

pytest-django's live_server is WSGI only and runs in the test process. These
fixtures run the `web:` command of the Procfile (uvicorn, with the options
production uses) in its own process, as many times as a test needs, all
sharing the test database and the test channel layer. That is how the project
scales out, so cross-process tests run what production runs.

Rows a test creates are visible to the server only once committed: tests that
use a server need `@pytest.mark.django_db(transaction=True)`.

Fixtures:
    asgi_server_factory(name="server", port=None, env=None) -> AsgiServer   session-scoped factory
    asgi_server -> AsgiServer                         one server for the session
    asgi_server_b -> AsgiServer                       a second one, on another port
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROCFILE = PROJECT_DIR / "Procfile"
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 20
STOP_TIMEOUT_SECONDS = 10

# What a server log must not hold after a test: a Python traceback, a Django
# log record at level ERROR ("... ERROR django.request ...") or uvicorn's "ERROR:".
LOG_PROBLEM = re.compile(r"Traceback|\sERROR\s|^ERROR:|CRITICAL", re.MULTILINE)


def procfile_command(process_type="web"):
    """The command line of one process type of the Procfile."""
    for line in PROCFILE.read_text().splitlines():
        kind, sep, command = line.partition(":")
        if sep and kind.strip() == process_type:
            return command.strip()
    raise RuntimeError(f"No {process_type!r} line in {PROCFILE}")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def database_url():
    """A URL for the database this test process uses (the test database, once set up)."""
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "", safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(str(db['NAME']), safe='')}"


def channel_layer_config():
    config = settings.CHANNEL_LAYERS["default"]
    if "hosts" not in config.get("CONFIG", {}):
        raise RuntimeError("Server processes share nothing without the Redis channel layer (set REDIS_URL).")
    redis_url = config["CONFIG"]["hosts"][0]
    if not isinstance(redis_url, str):
        raise RuntimeError(f"Expected a Redis URL in CHANNEL_LAYERS hosts, got {redis_url!r}")
    return redis_url, config["CONFIG"].get("prefix", "asgi")


def server_environment(port, overrides=None):
    """The server's environment: the test process's database, Redis and secrets,
    and `overrides` (e.g. a REDIS_URL through a proxy, a different rate limit)."""
    redis_url, prefix = channel_layer_config()
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOST": HOST,
        "PORT": str(port),
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "CHANNEL_LAYER_PREFIX": prefix,
        "DEBUG": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # Signed values (session auth hashes) must verify on both sides.
        "SECRET_KEY": settings.SECRET_KEY,
        "CHAT_RATE_LIMIT": str(settings.CHAT_RATE_LIMIT),
        "PYTHONUNBUFFERED": "1",
        **(overrides or {}),
    }


@dataclass
class AsgiServer:
    name: str
    port: int
    log_path: Path
    process: subprocess.Popen

    @property
    def pid(self):
        return self.process.pid

    @property
    def url(self):
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self):
        return f"ws://{HOST}:{self.port}"

    @property
    def origin(self):
        """The Origin header a page served by this server sends."""
        return self.url

    def log_text(self, since=0):
        """The server's output so far (from byte offset `since`)."""
        with open(self.log_path, "rb") as log:
            log.seek(since)
            return log.read().decode("utf-8", errors="replace")

    def log_mark(self):
        """An offset to pass to log_text / assert_clean_log: only what comes after it."""
        return self.log_path.stat().st_size

    def log_problems(self, since=0):
        return [line for line in self.log_text(since).splitlines() if LOG_PROBLEM.search(line)]

    def assert_clean_log(self, since=0):
        text = self.log_text(since)
        assert not LOG_PROBLEM.search(text), f"server {self.name} logged a problem:\n{text[-6000:]}"

    def wait_until_healthy(self, timeout=START_TIMEOUT_SECONDS):
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server {self.name} exited with {self.process.returncode}:\n{self.log_text()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
                    last_error = f"HTTP {response.status}"
            except urllib.error.HTTPError as error:
                last_error = f"HTTP {error.code}: {error.read()[:200]!r}"
            except OSError as error:
                last_error = repr(error)
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(
            f"server {self.name} not healthy after {timeout} s ({last_error}):\n{self.log_text()}"
        )

    def stop(self):
        """Terminate the server's process group (SIGTERM, then SIGKILL after a timeout)."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)


def start_server(name, log_dir, attempts=3, port=None, env=None):
    """Run the Procfile's web command on a free port (or on `port`, to restart a
    server where its pages reconnect) and wait until it is healthy.

    Another process may take the free port before the server binds it: then retry.
    """
    for attempt in range(1, attempts + 1):
        chosen = port or free_port()
        log_path = log_dir / f"{name}-{chosen}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                ["sh", "-c", f"exec {procfile_command('web')}"],
                cwd=PROJECT_DIR,
                env=server_environment(chosen, env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, stopped as a whole
            )
        server = AsgiServer(name=name, port=chosen, log_path=log_path, process=process)
        try:
            server.wait_until_healthy()
        except BaseException:
            server.stop()
            if attempt < attempts and "address already in use" in server.log_text().lower():
                continue
            raise
        return server
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def asgi_server_factory(django_db_setup, django_db_blocker, tmp_path_factory):
    """Start a real server process: `asgi_server_factory(name="a") -> AsgiServer`.

    Servers live until the end of the session; they are stopped here, before
    pytest-django drops the test database (this fixture depends on django_db_setup).
    """
    log_dir = tmp_path_factory.mktemp("asgi-servers")
    servers = []

    def start(name="server", port=None, env=None):
        # django_db_setup has run: settings now name the test database.
        with django_db_blocker.unblock():
            server = start_server(name, log_dir, port=port, env=env)
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        server.stop()


@pytest.fixture(scope="session")
def asgi_server(asgi_server_factory):
    """One real server process for the whole session."""
    return asgi_server_factory("a")


@pytest.fixture(scope="session")
def asgi_server_b(asgi_server, asgi_server_factory):
    """A second server process on another port, sharing Postgres and Redis with asgi_server."""
    return asgi_server_factory("b")
