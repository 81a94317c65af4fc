"""Background work of attachments, run by the worker (config/schedule.py)."""

from datetime import timedelta

from django_tasks import task

from attachments.services import orphans_remove

# How often the worker sweeps, and how old an unclaimed file must be: an upload in
# progress has stored its files but not yet saved its message.
SWEEP_EVERY = timedelta(hours=1)
ORPHAN_MIN_AGE = timedelta(hours=1)


@task()
def attachments_sweep():
    """Remove stored files that belong to no message; returns how many."""
    return len(orphans_remove(older_than=ORPHAN_MIN_AGE))
