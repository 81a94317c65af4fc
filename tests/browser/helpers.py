"""What browser tests share: a logged-in browser context, and running server
code (which broadcasts) off the thread where Playwright keeps its event loop."""

from concurrent.futures import ThreadPoolExecutor

from django.db import connections
from django.test import Client


def logged_in_context(new_context, server, user, **options):
    """A browser context holding a real session for `user` on `server`."""
    client = Client()
    client.force_login(user)
    context = new_context(base_url=server.url, **options)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": server.url}]
    )
    return context


def as_server_code(service, **kwargs):
    """Run a service as server code runs it: in a thread without an event loop
    (Playwright's sync API keeps one in the test's thread, and broadcasting from
    there would fail)."""

    def call():
        try:
            return service(**kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()
