"""A browser context's problems, gathered as they happen: console errors, uncaught
page errors, failed requests and HTTP answers of 400 and more. A test declares the
few answers it provokes on purpose (`expect_status`); every other one is a problem."""

import re
from dataclasses import dataclass

# Chromium logs every 4xx/5xx answer as a console error too: expected answers are
# left out of both lists.
FAILED_RESOURCE = "Failed to load resource: the server responded with a status of"


@dataclass
class Expected:
    status: int
    path: re.Pattern
    seen: int = 0


class ProblemWatch:
    def __init__(self, context, name):
        self.name = name
        self.problems = []
        self.expected = []
        context.on("console", self._console)
        context.on("weberror", lambda error: self.problems.append(f"page error: {error.error}"))
        context.on("requestfailed", self._request_failed)
        context.on("response", self._response)

    def expect_status(self, status, path):
        """An answer the test provokes on purpose (e.g. the 403 of a banned room)."""
        expected = Expected(status=status, path=re.compile(path))
        self.expected.append(expected)
        return expected

    def _is_expected(self, status, url):
        for expected in self.expected:
            if expected.status == status and expected.path.search(url):
                expected.seen += 1
                return True
        return False

    def _console(self, message):
        if message.type != "error":
            return
        if message.text.startswith(FAILED_RESOURCE) and any(
            f"status of {e.status} " in message.text for e in self.expected
        ):
            # Chromium does not say which URL; the response handler judged it already.
            return
        self.problems.append(f"console error: {message.text} at {message.location.get('url')}")

    def _request_failed(self, request):
        self.problems.append(f"request failed: {request.method} {request.url} {request.failure}")

    def _response(self, response):
        if response.status >= 400 and not self._is_expected(response.status, response.url):
            self.problems.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def assert_clean(self, flow=""):
        assert not self.problems, f"{self.name}'s browser saw problems ({flow}):\n" + "\n".join(self.problems)
