"""The background worker (Procfile `worker:`): django-tasks-db's db_worker, after the
periodic tasks (config/schedule.py) have their first run enqueued."""

from django_tasks_db.management.commands import db_worker

from config.schedule import periodic_enqueue_missing


class Command(db_worker.Command):
    help = "Run background tasks from the database queue, periodic ones included."

    def handle(self, *args, **options):
        periodic_enqueue_missing()
        super().handle(*args, **options)
