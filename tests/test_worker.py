"""The background worker (`manage.py worker`, the Procfile's worker: line): Django's
Tasks API queued in Postgres (django-tasks-db), and the periodic tasks that carry
their own schedule (config/schedule.py): the orphan sweep of attachments."""

import io
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from attachments.tasks import SWEEP_EVERY, attachments_sweep
from config import schedule
from tests.background import run_worker
from tests.factories import RoomFactory

# The worker reconnects between tasks (tests/background.py).
pytestmark = pytest.mark.django_db(transaction=True)


@task()
def always_fails():
    raise RuntimeError("a task that fails")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def waiting(task):
    return DBTaskResult.objects.filter(task_path=task.module_path, status=TaskResultStatus.READY)


def old_orphan():
    """A file an abandoned upload left two hours ago."""
    path = default_storage.save(f"attachments/{RoomFactory().pk}/abandoned/left.pdf", io.BytesIO(b"%PDF-1.4"))
    two_hours_ago = time.time() - 7200
    os.utime(default_storage.path(path), (two_hours_ago, two_hours_ago))
    return path


def test_the_worker_sweeps_orphans_and_schedules_the_next_sweep():
    orphan = old_orphan()
    young = default_storage.save("attachments/1/uploading/new.pdf", io.BytesIO(b"%PDF-1.4"))
    run_worker()
    assert not default_storage.exists(orphan) and default_storage.exists(young)
    (done,) = DBTaskResult.objects.filter(task_path=attachments_sweep.module_path, status="SUCCESSFUL")
    assert done.task_result.return_value == 1
    (next_run,) = waiting(attachments_sweep)
    expected = timezone.now() + SWEEP_EVERY
    assert abs(next_run.run_after - expected) < timedelta(minutes=1)


def test_starting_more_workers_does_not_schedule_a_task_twice():
    schedule.periodic_enqueue_missing()
    schedule.periodic_enqueue_missing()
    assert waiting(attachments_sweep).count() == 1


def test_duplicate_schedules_die_out_at_their_next_run():
    attachments_sweep.enqueue()
    attachments_sweep.enqueue()  # two workers started at the same moment
    run_worker()
    assert waiting(attachments_sweep).count() == 1


@pytest.mark.allow_error_log  # the worker logs the failure, as it should
def test_a_periodic_task_that_fails_still_runs_again(monkeypatch):
    monkeypatch.setattr(schedule, "PERIODIC", {})
    schedule.periodic_register(always_fails, every=timedelta(minutes=5))
    run_worker()
    assert DBTaskResult.objects.get(task_path=always_fails.module_path, status="FAILED")
    (next_run,) = waiting(always_fails)
    assert next_run.run_after > timezone.now() + timedelta(minutes=4)


def test_the_procfile_and_make_run_run_the_worker():
    project = Path(__file__).resolve().parent.parent
    assert "worker: python manage.py worker" in (project / "Procfile").read_text()
    assert "$(WORKER) &" in (project / "Makefile").read_text()


@pytest.mark.allow_error_log
def test_healthz_shows_staff_the_queue_and_the_failures(client):
    from tests.factories import UserFactory

    schedule.periodic_enqueue_missing()
    always_fails.enqueue()
    run_worker()  # the sweep succeeds, always_fails fails, the next sweep waits an hour
    waited = always_fails.enqueue()  # queued three minutes ago, with no worker running since
    DBTaskResult.objects.filter(id=waited.id).update(enqueued_at=timezone.now() - timedelta(minutes=3))
    attachments_sweep.using(run_after=timezone.now() - timedelta(minutes=1)).enqueue()
    assert "worker" not in client.get("/healthz").json()
    client.force_login(UserFactory(is_staff=True))
    worker = client.get("/healthz").json()["worker"]
    assert worker["queued"] == 2 and worker["failed_last_day"] == 1
    assert 170 <= worker["oldest_waiting_seconds"] <= 240
