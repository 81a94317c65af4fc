"""`manage.py import_slack <export.zip>`: api/slack_import.py does the work; this
draws the progress bar (stderr) and prints the summary (stdout)."""

from django.core.management.base import BaseCommand, CommandError

from api.slack_import import ImportRefused, slack_import

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Import a Slack export (zip): people (matched by email), public channels as rooms, "
        "messages with their times, threads as replies, reactions and files. Running it "
        "again on the same export changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("export", help="the zip file Slack's Export data page gives")

    def handle(self, *args, export, **options):
        try:
            summary = slack_import(path=export, progress=self._progress)
        except ImportRefused as refusal:
            raise CommandError(f"Nothing was imported: {refusal}") from None
        self.stderr.write("")
        self._summary(summary)

    def _progress(self, done, total):
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stderr.write(f"\rImporting days [{bar}] {done}/{total}", ending="")
        self.stderr.flush()

    def _summary(self, summary):
        lines = [
            f"People: {summary.users_matched} matched by email, {summary.users_created} created",
            f"Rooms: {summary.rooms} created, {summary.members} memberships added",
            f"Messages: {summary.messages} new ({summary.replies} of them replies), "
            f"{summary.already_imported} imported before",
            f"Reactions: {summary.reactions}",
            f"Files: {summary.files} attached, {summary.file_links} linked in the text (not in the export)",
        ]
        for line in lines:
            self.stdout.write(line)
        for reason, count in sorted(summary.skipped.items()):
            self.stdout.write(f"Skipped: {count} {reason}")
        style = self.style.SUCCESS if summary.new else self.style.WARNING
        done = f"{summary.new} new" if summary.new else "0 new: everything was imported before"
        self.stdout.write(style(done))
