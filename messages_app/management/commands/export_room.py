from django.core.management.base import BaseCommand, CommandError

from messages_app.export import EXPORT_FORMATS, export_chunks
from rooms.models import Room


class Command(BaseCommand):
    help = "Write a room's history as JSON or a self-contained HTML file, as its export page does."

    def add_arguments(self, parser):
        parser.add_argument("room", help="the room's slug")
        parser.add_argument("--format", choices=sorted(EXPORT_FORMATS), default="json")
        parser.add_argument("--output", help="the file to write (default: standard output)")
        parser.add_argument(
            "--base-url",
            default="",
            help="the site's address, for the HTML file's links (https://chat.example/)",
        )

    def handle(self, *args, room, format, output, base_url, **options):
        target = Room.objects.filter(slug=room).first()
        if target is None:
            raise CommandError(f"No room with slug {room!r}.")
        chunks = export_chunks(target, export_format=format, base_url=base_url)
        if output is None:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            return
        with open(output, "w", encoding="utf-8") as out:
            for chunk in chunks:
                out.write(chunk)
