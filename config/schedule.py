"""Background tasks that run on a schedule (the orphan sweep, the email digest).

Django's Tasks API has no scheduler, so a periodic task carries its own: when a run
finishes, well or not, the next is enqueued for one period later, unless one is
already waiting; the worker command (config/management/commands/worker.py) enqueues
the first run of each that has none when it starts. Several workers may start at
once: the "unless one is waiting" check makes duplicate chains die out at their next
run. Apps register their periodic tasks in AppConfig.ready().
"""

import logging
from datetime import timedelta

from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks.signals import task_finished
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

# task path ("app.tasks.function") -> (task, period)
PERIODIC = {}


def periodic_register(task, *, every: timedelta):
    PERIODIC[task.module_path] = (task, every)


def periodic_enqueue_missing():
    """The first run, now, of each periodic task that has no run waiting."""
    for task, _ in PERIODIC.values():
        _enqueue_unless_waiting(task, run_after=timezone.now())


def periodic_next_run(sender, task_result, **kwargs):
    """task_finished: a periodic task's next run, one period after this one."""
    entry = PERIODIC.get(task_result.task.module_path)
    if entry is not None:
        task, every = entry
        _enqueue_unless_waiting(task, run_after=timezone.now() + every)


def _enqueue_unless_waiting(task, *, run_after):
    waiting = DBTaskResult.objects.filter(task_path=task.module_path, status=TaskResultStatus.READY)
    if not waiting.exists():
        task.using(run_after=run_after).enqueue()
        logger.info("periodic task scheduled task=%s run_after=%s", task.module_path, run_after.isoformat())


task_finished.connect(periodic_next_run, dispatch_uid="config.schedule.periodic_next_run")
