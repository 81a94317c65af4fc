"""Remove stored files that no attachment points to: what an upload left behind when
its message was never saved (the server stopped mid-request, storage was slow to
delete). Young files are spared: their message may still be on its way."""

from datetime import timedelta

from django.core.management.base import BaseCommand

from attachments.services import orphans_remove


class Command(BaseCommand):
    help = "Delete attachment files in storage that belong to no message (older than --min-age minutes)."

    def add_arguments(self, parser):
        parser.add_argument("--min-age", type=int, default=60, help="minutes a file must have been stored")

    def handle(self, *args, min_age, **options):
        removed = orphans_remove(older_than=timedelta(minutes=min_age))
        self.stdout.write(f"Removed {len(removed)} orphaned file{'s' if len(removed) != 1 else ''}.")
