"""Running the background worker inside a test (tests that use it need
django_db(transaction=True): the worker closes and reopens its connection between
tasks, as in production, which no test transaction can wrap)."""

import signal

from django.core.management import call_command


def run_worker():
    """`manage.py worker` until no task is ready, in this process; the worker's signal
    handlers are put back afterwards."""
    numbers = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)
    handlers = {number: signal.getsignal(number) for number in numbers}
    try:
        call_command("worker", "--batch", "--no-startup-delay", "--no-reload", "--interval=0", verbosity=0)
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
