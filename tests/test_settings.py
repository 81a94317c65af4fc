"""Settings from the environment: production passes check --deploy; development
falls back to SQLite and the in-memory layer, and says so."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, env):
    base = {
        key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}
    }
    base["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True
    )


def test_production_settings_pass_check_deploy():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DEBUG": "0",
            "SECRET_KEY": "k" * 20 + "-production-secret-key-with-enough-entropy-9f8e7d",
            "ALLOWED_HOSTS": "chat.example.com",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/chat",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", env={"DEBUG": "0"})
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_development_falls_back_to_sqlite_and_in_memory_layer():
    code = "from config.backends import backend_summary; print('\\n'.join(backend_summary()))"
    result = run_manage("shell", "-c", code, env={"DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert "SQLite" in result.stdout and "in-memory" in result.stdout


def test_environment_selects_postgres_with_pool_and_redis():
    code = "from config.backends import backend_summary; print('\\n'.join(backend_summary()))"
    env = {
        "DEBUG": "1",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/chat",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    result = run_manage("shell", "-c", code, env=env)
    assert "Postgres" in result.stdout and "with connection pool" in result.stdout
    assert "Redis" in result.stdout


def test_the_asgi_application_makes_full_garbage_collections_rare():
    """Full collections paused the event loop for 100-330 ms at 1,000 sockets (docs/performance.md)."""
    import gc

    from config import asgi

    assert gc.get_threshold() == asgi.GC_THRESHOLDS
    assert asgi.GC_THRESHOLDS[0] >= 10_000
