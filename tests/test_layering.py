"""The apps depend in one direction (design.md section 5):

    config (shared modules)  <-  accounts  <-  rooms  <-  messages_app  <-  attachments, notifications, api

A module may import its own app and the apps below it, never one above. Higher apps
hear of a lower app's events through signals. The walk reads every import statement
of every module (function-level imports too), so a new module is covered as it lands.
"""

import ast
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
# Each rung may import the rungs before it; apps on one rung do not import each other.
LADDER = [{"accounts"}, {"rooms"}, {"messages_app"}, {"attachments", "notifications", "api"}]
APPS = set().union(*LADDER)
# The project's wiring, which names every app by design; every other config module
# (the realtime send, the database threads, the health check) is below all apps.
WIRING = {
    "config/urls.py",
    "config/asgi.py",
    "config/wsgi.py",
    "config/settings.py",
    "config/settings_test.py",
}


def rung(app):
    return next(index for index, apps in enumerate(LADDER) if app in apps)


def imported_apps(path):
    """(line, app) for each project app a module imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in APPS:
                yield node.lineno, top


def modules_of(directory):
    return sorted(path for path in (PROJECT / directory).rglob("*.py") if "migrations" not in path.parts)


def upward_imports(path, *, own_app, own_rung, root=PROJECT):
    """The imports of a module that reach above `own_rung` (or across its rung)."""
    return [
        f"{path.relative_to(root).as_posix()}:{line} imports {app}"
        for line, app in imported_apps(path)
        if app != own_app and rung(app) >= own_rung
    ]


@pytest.mark.parametrize("app", sorted(APPS))
def test_an_app_imports_only_the_apps_below_it(app):
    if not (PROJECT / app).is_dir():
        assert app in LADDER[-1], f"{app} is missing"  # the top rung's apps arrive later
        return
    problems = [
        problem
        for path in modules_of(app)
        for problem in upward_imports(path, own_app=app, own_rung=rung(app))
    ]
    assert problems == []


def test_shared_config_modules_import_no_app():
    shared = [path for path in modules_of("config") if path.relative_to(PROJECT).as_posix() not in WIRING]
    assert shared, "config/ has no shared modules to check"
    problems = [problem for path in shared for problem in upward_imports(path, own_app="config", own_rung=-1)]
    assert problems == []


def test_the_walk_sees_upward_imports_and_allows_downward_ones(tmp_path):
    """The check itself: in a module of rooms, an import of messages_app inside a
    function is reported, and imports of rooms and accounts are not."""
    module = tmp_path / "rooms" / "probe.py"
    module.parent.mkdir()
    module.write_text(
        "import accounts.models\nfrom rooms.models import Room\n\n"
        "def probe():\n    from messages_app.models import Message\n    return Message\n"
    )
    found = upward_imports(module, own_app="rooms", own_rung=rung("rooms"), root=tmp_path)
    assert found == ["rooms/probe.py:5 imports messages_app"]
