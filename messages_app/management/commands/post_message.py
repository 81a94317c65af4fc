from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from messages_app.services import MessageRejected, message_post
from rooms.models import Room


class Command(BaseCommand):
    help = "Post a message to a room as a user, through the same rules as the web page."

    def add_arguments(self, parser):
        parser.add_argument("room", help="the room's slug")
        parser.add_argument("user", help="the author's username")
        parser.add_argument("text", help="the message")

    def handle(self, *args, room, user, text, **options):
        target = Room.objects.filter(slug=room).first()
        if target is None:
            raise CommandError(f"No room with slug {room!r}.")
        author = get_user_model().objects.filter(username=user).first()
        if author is None:
            raise CommandError(f"No user named {user!r}.")
        try:
            message = message_post(room=target, author=author, body=text)
        except MessageRejected as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(f"Posted message {message.pk} to {target.slug} as {author.username}.")
