"""Production mode (DEBUG off) answers errors with the app's own pages, and every page,
the admin's too, names the favicon (issue 12, point 5)."""

import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from config.security import HEADER
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PRODUCTION_ERRORS = override_settings(DEBUG=False, ROOT_URLCONF="tests.error_urls")
FAVICON = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'


def assert_in_the_apps_layout(response):
    page = response.content.decode()
    assert '<header class="topbar">' in page
    assert 'href="/static/css/chat.css"' in page
    assert FAVICON in page
    assert re.search(r'<a class="button" href="/">Back to the rooms</a>', page), page
    # Styled under the strict policy, not Django's plain page with its inline style.
    assert "<style" not in page and HEADER in response.headers


@PRODUCTION_ERRORS
def test_404_is_the_apps_page_in_the_readers_theme():
    client = Client()
    client.force_login(UserFactory())
    client.cookies["theme"] = "dark"
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert [t.name for t in response.templates][0] == "404.html"
    assert_in_the_apps_layout(response)
    page = response.content.decode()
    assert "Page not found" in page and '<html lang="en" data-theme="dark">' in page


@PRODUCTION_ERRORS
def test_404_of_a_missing_room_does_not_show_the_exceptions_text():
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/rooms/no-such-room/")
    assert response.status_code == 404
    assert_in_the_apps_layout(response)
    assert "No such room" not in response.content.decode()


@PRODUCTION_ERRORS
def test_403_is_the_apps_page_and_says_why():
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/test-errors/forbidden/")
    assert response.status_code == 403
    assert [t.name for t in response.templates][0] == "403.html"
    assert_in_the_apps_layout(response)
    page = response.content.decode()
    assert "You can't open this page" in page and "Only the room&#x27;s owners can do this." in page


@PRODUCTION_ERRORS
@pytest.mark.allow_error_log
def test_500_is_the_apps_page_without_the_request(caplog):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory())
    response = client.get("/test-errors/broken/")
    assert response.status_code == 500
    assert [t.name for t in response.templates] == ["500.html", "errors/layout.html"]
    assert_in_the_apps_layout(response)
    assert "Something went wrong" in response.content.decode()
    assert "RuntimeError: a bug" in caplog.text  # still logged


def test_an_app_page_and_an_admin_page_name_the_favicon():
    assert FAVICON in Client().get(reverse("account_login")).content.decode()
    staff = Client()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    for url in ("/admin/", "/admin/rooms/room/", "/admin/rooms/room/add/"):
        response = staff.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert FAVICON in page, url
        assert "Django administration" in page or "Django site admin" in page  # the admin's own branding


def test_the_favicon_is_served_and_favicon_ico_leads_to_it():
    icon = Client().get("/static/favicon.svg")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    response = Client().get("/favicon.ico", follow=True)
    assert response.redirect_chain == [("/static/favicon.svg", 302)]
    assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
