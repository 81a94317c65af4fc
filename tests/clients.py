"""Test clients signed in as someone."""

from django.test import Client


def logged_in(user, **options):
    """A Django test client with `user` signed in (`options` go to Client)."""
    client = Client(**options)
    client.force_login(user)
    return client
