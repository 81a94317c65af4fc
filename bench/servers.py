"""The app's server processes for a bench run: the Procfile's `web:` command
(or daphne, to compare), N of them on N ports, sharing Postgres and Redis.

That is how the app scales out: clients spread across the processes and the
channel layer carries every message to every process that has a member socket.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.environment import PROJECT_DIR

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10
LOG_PROBLEM = re.compile(r"Traceback|\sERROR\s|^ERROR:|CRITICAL", re.MULTILINE)
APPLICATION = "config.asgi:application"
# --variant names: the app with one change applied or undone. Most are in
# bench/asgi_variants.py; "no-pool" in bench/settings.py; "deflate-on" here.
VARIANTS = (
    "gc-freeze",
    "gc-default",
    "gc-log",
    "shared-db-thread",
    "frames-inline",
    "dispatch-hop",
    "no-pool",
    "deflate-on",
    "notifications-off",
    "notify-everyone",
)
DEFLATE_OFF = "--ws-per-message-deflate false"


def procfile_web_command():
    for line in (PROJECT_DIR / "Procfile").read_text().splitlines():
        kind, sep, command = line.partition(":")
        if sep and kind.strip() == "web":
            return command.strip()
    raise SystemExit("No web: line in the Procfile")


def server_command(*, server, variants):
    """The shell command of one server process ($HOST and $PORT come from its environment)."""
    application = "bench.asgi_variants:application" if variants else APPLICATION
    if server == "daphne":
        return f"daphne -b $HOST -p $PORT --proxy-headers {application}"
    command = procfile_web_command()
    if APPLICATION not in command or DEFLATE_OFF not in command:
        raise SystemExit(f"The Procfile's web: line is not the one the bench knows: {command}")
    if "deflate-on" in variants:  # undoes a change: per-message deflate, as uvicorn's default
        command = command.replace(DEFLATE_OFF, "--ws-per-message-deflate true")
    return command.replace(APPLICATION, application)


def client_compression(variants):
    """What the bench's clients offer: nothing, as the issue asks, except to measure deflate on."""
    return "deflate" if "deflate-on" in variants else None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    port: int
    log_path: Path
    process: subprocess.Popen

    @property
    def pid(self):
        return self.process.pid

    @property
    def origin(self):
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self):
        return f"ws://{HOST}:{self.port}"

    def log_problems(self):
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if LOG_PROBLEM.search(line)]

    def wait_until_healthy(self, timeout=START_TIMEOUT_SECONDS):
        deadline, last_error = time.monotonic() + timeout, "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server on {self.port} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.origin}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as error:
                last_error = f"HTTP {error.code}"
            except OSError as error:
                last_error = repr(error)
            time.sleep(0.1)
        raise RuntimeError(f"server on {self.port} not healthy after {timeout} s ({last_error})")

    def stop(self):
        """SIGTERM its process group, SIGKILL after a timeout."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)


def start_servers(count, *, env, log_dir, server="uvicorn", variants=()):
    """Start `count` server processes on free ports and wait until each answers /healthz."""
    command = server_command(server=server, variants=variants)
    servers = []
    try:
        for _ in range(count):
            servers.append(_start_one(command, env=env, log_dir=log_dir))
        for one in servers:
            one.wait_until_healthy()
    except BaseException:
        stop_servers(servers)
        raise
    return servers


def _start_one(command, *, env, log_dir):
    port = free_port()
    log_path = log_dir / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["sh", "-c", f"exec {command}"],  # exec: the PID is the server's, for /proc readings
            cwd=PROJECT_DIR,
            env={**env.server_environment(), "HOST": HOST, "PORT": str(port)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(port=port, log_path=log_path, process=process)


def stop_servers(servers):
    for one in servers:
        one.stop()
