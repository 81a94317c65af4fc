"""Every URL the project serves (its own, allauth's and the admin's), made
concrete. Tests that must hold for every view (CSRF, the Content Security Policy,
private rooms) walk these, so a view added later is covered without anyone
remembering to list it."""

import re
from dataclasses import dataclass

from django.urls import URLResolver, get_resolver, resolve

# <converter:name>, <name> and (?P<name>...) in a route.
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    route: str  # the whole route, e.g. "rooms/<slug:slug>/messages/<int:pk>/"
    name: str | None
    callback: object

    @property
    def parameters(self):
        return [a or b for a, b in PARAMETER.findall(self.route)]

    @property
    def is_admin(self):
        return self.route.startswith("admin/")

    def path(self, values):
        """The path with each parameter taken from `values` (a dict by parameter name);
        checked to reach this route's view."""
        path = "/" + PARAMETER.sub(lambda m: str(values[m.group(1) or m.group(2)]), self.route)
        path = path.replace("^", "").replace("$", "")
        assert resolve(path).func is self.callback, f"{path} does not reach {self}"
        return path

    def __str__(self):
        return f"{self.route} ({self.name or self.callback.__module__})"


def project_routes():
    return list(_walk(get_resolver().url_patterns, prefix=""))


def _walk(patterns, *, prefix):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix=prefix + str(pattern.pattern))
        else:
            yield Route(route=prefix + str(pattern.pattern), name=pattern.name, callback=pattern.callback)
