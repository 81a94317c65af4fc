"""Accounts through allauth's real forms: sign up, log in by username or email, log out."""

import pytest
from django.contrib.auth import get_user_model

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_user_model_is_the_custom_one():
    assert get_user_model()._meta.label == "accounts.User"


def test_sign_up_with_username_email_and_password_twice_logs_in(client):
    page = client.get("/accounts/signup/").content.decode()
    for field in ("username", "email", "password1", "password2"):
        assert f'name="{field}"' in page

    response = client.post(
        "/accounts/signup/",
        {"username": "dana", "email": "dana@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert response.status_code == 302 and response["Location"] == "/"
    assert get_user_model().objects.filter(username="dana", email="dana@example.com").exists()
    assert client.get("/").status_code == 200  # signed in, no email verification step


def test_sign_up_refuses_mismatched_passwords(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "erin",
            "email": "erin@example.com",
            "password1": PASSWORD,
            "password2": "other-Pass-99",
        },
    )
    assert response.status_code == 200 and not get_user_model().objects.filter(username="erin").exists()


@pytest.mark.parametrize("login", ["frank", "frank@example.com"])
def test_log_in_by_username_or_email(client, login):
    UserFactory(username="frank", email="frank@example.com")
    response = client.post("/accounts/login/", {"login": login, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_log_out_by_post(client, user):
    client.force_login(user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # back to the login page


def test_allauth_pages_use_the_app_layout(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/static/css/chat.css"' in page and 'class="topbar"' in page
