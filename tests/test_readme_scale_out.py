"""The README's local production-mode run, as written: DEBUG off over plain http.

Production mode redirects http to https and marks its cookies Secure; over plain
http that answered even /healthz with a 301 and no cookie ever came back (issue 12,
point 2). The README's Scale out section names the settings that turn this off for a
run on one machine; this test runs that block of shell lines (with only the database,
Redis and the ports swapped for the test's) and uses both processes it starts as a
browser would: the cookie jar, like a browser, never sends a Secure cookie over http.
"""

import contextlib
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.live_server import LOG_PROBLEM, channel_layer_config, database_url, free_port

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_SECONDS = 60
# What the test's process sets that the README's reader would not have.
NOT_INHERITED = {"DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "HOST", "PORT"}
NOT_INHERITED |= {"ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"}


def readme_block():
    """The Scale out section's shell block that runs production mode over plain http."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Scale out\n", 1)[1].split("\n## ", 1)[0]
    blocks = [b for b in re.findall(r"```sh\n(.*?)```", section, re.S) if "SECURE_SSL_REDIRECT=0" in b]
    assert len(blocks) == 1, "README's Scale out section has no local production-mode block"
    return blocks[0]


def for_this_test(block, ports):
    """The block with the test's database, Redis and free ports; everything else as written."""
    redis_url, _ = channel_layer_config()
    block, count = re.subn(
        r"^export DATABASE_URL=\S+ REDIS_URL=\S+$",
        f"export DATABASE_URL={database_url()} REDIS_URL={redis_url}",
        block,
        flags=re.M,
    )
    assert count == 1, block
    for written, port in zip(("PORT=8001 ", "PORT=8002 "), ports, strict=True):
        assert block.count(written) == 1, block
        block = block.replace(written, f"PORT={port} ")
    return block


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx comes back as it is, so a redirect to https shows


class Browser:
    """Cookies and forms over plain http, the way a browser handles them."""

    def __init__(self):
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirects()
        )

    def request(self, url, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(url, data=data, timeout=10) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode(errors="replace")

    def submit(self, page_url, action_url, fields):
        """GET the page holding a form (for its CSRF token), then POST the form."""
        status, _, page = self.request(page_url)
        assert status == 200, (page_url, status)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        return self.request(action_url, {"csrfmiddlewaretoken": token, **fields})


def stop_group(pgid):
    """The block's `&` processes share the shell's process group: stop them all."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            os.killpg(pgid, 0)  # ProcessLookupError once every process has gone
            time.sleep(0.1)
        os.killpg(pgid, signal.SIGKILL)


def http_get_or_refused(browser, url):
    try:
        return browser.request(url)
    except urllib.error.URLError:
        return 0, None, ""


@pytest.fixture
def readme_servers(tmp_path):
    """Run the README's block; yield the two servers' URLs and the log of all it printed."""
    ports = [free_port(), free_port()]
    _, prefix = channel_layer_config()
    env = {key: value for key, value in os.environ.items() if key not in NOT_INHERITED}
    env |= {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",  # the venv's python
        "CHANNEL_LAYER_PREFIX": prefix,
        "PYTHONUNBUFFERED": "1",
        # Not the checkout's staticfiles/: whitenoise would serve that stale copy to later tests.
        "STATIC_ROOT": str(tmp_path / "staticfiles"),
    }
    log_path = tmp_path / "readme-block.log"
    with open(log_path, "wb") as log:
        shell = subprocess.Popen(
            ["sh", "-e", "-c", for_this_test(readme_block(), ports)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert shell.wait(timeout=START_TIMEOUT_SECONDS) == 0, log_path.read_text()
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        yield urls, log_path
    finally:
        stop_group(shell.pid)


def test_the_readmes_production_mode_over_http_answers_and_keeps_sessions(readme_servers):
    (one, two), log_path = readme_servers
    for url in (one, two):
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while (answer := http_get_or_refused(Browser(), f"{url}/healthz"))[0] == 0:
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        status, _, body = answer
        assert status == 200, (url, status, body)  # not a 301 to https
        assert '"database": "ok"' in body and '"channel_layer": "ok"' in body

    browser = Browser()
    password = "a long and unusual passphrase 7"
    signup = {"username": "newcomer", "email": "newcomer@example.com", "password1": password}
    status, headers, _ = browser.submit(
        f"{one}/accounts/signup/", f"{one}/accounts/signup/", {**signup, "password2": password}
    )
    assert (status, headers["Location"]) == (302, "/")
    assert {cookie.name for cookie in browser.cookies} >= {"csrftoken", "sessionid"}
    assert not any(cookie.secure for cookie in browser.cookies)
    for url in (one, two):  # the session cookie comes back, to either process
        status, _, page = browser.request(f"{url}/")
        assert status == 200 and "<strong>newcomer</strong>" in page, (url, status)

    status, _, _ = browser.submit(f"{two}/", f"{two}/accounts/logout/", {})
    assert status == 302
    assert browser.request(f"{one}/")[0] == 302  # logged out everywhere: to the login page

    status, headers, _ = browser.submit(
        f"{two}/accounts/login/", f"{two}/accounts/login/", {"login": "newcomer", "password": password}
    )
    assert (status, headers["Location"]) == (302, "/")
    status, _, page = browser.request(f"{one}/")
    assert status == 200 and "<strong>newcomer</strong>" in page

    # Production's own pages and hashed static files (collectstatic's manifest).
    status, _, page = browser.request(f"{one}/no-such-page/")
    assert status == 404 and "Page not found" in page
    stylesheet = re.search(r'href="(/static/css/chat\.[0-9a-f]{12}\.css)"', page).group(1)
    assert browser.request(f"{two}{stylesheet}")[0] == 200

    log = log_path.read_text()
    assert not LOG_PROBLEM.search(log), log[-6000:]
