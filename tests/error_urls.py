"""The project's URLs plus two views that fail on purpose, for tests/test_error_pages.py:
Django's own handlers must render the 403 and 500 pages, as they would in production."""

from django.core.exceptions import PermissionDenied
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def forbidden(request):
    raise PermissionDenied("Only the room's owners can do this.")


def broken(request):
    raise RuntimeError("a bug")


urlpatterns = [
    path("test-errors/forbidden/", forbidden),
    path("test-errors/broken/", broken),
    *project_urlpatterns,
]
