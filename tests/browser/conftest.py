"""Browser tests: Playwright (sync API) driving Debian's chromium."""

import pytest

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """`playwright install` cannot download here: use the system chromium."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session", autouse=True)
def allow_sync_orm_beside_playwright():
    """Playwright's sync API keeps an event loop running in the main thread, which makes
    Django refuse ORM calls there (the test's own queries, pytest-django's flush after a
    transactional test). Session-scoped so that it is still set when pytest-django
    flushes the database after the test; browser tests run last (tests/conftest.py)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield
