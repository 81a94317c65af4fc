from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from messages_app.models import Message
from messages_app.text import render_message_html
from rooms.models import Membership
from rooms.services import room_create, room_join

DEMO_PASSWORD = "chat-demo-2026"
DEMO_USERS = ["alice", "bob", "carol"]
LOBBY_HISTORY = [
    ("alice", "Welcome to the lobby! This room is public: anyone signed in can read it."),
    ("bob", "Hi Alice. Is the history kept when I reload?"),
    ("alice", "Yes, every message is stored in the database."),
    ("carol", "And messages appear live in every open browser. **Bold**, _italic_ and `code` work too."),
    ("bob", "Nice. Try it with two browsers side by side."),
]
TEAM_HISTORY = [
    ("alice", "This room is private: only its members can see it."),
    ("bob", "Good place for the team's plans."),
]


class Command(BaseCommand):
    help = "Create demo users and two rooms with some history, if the database has no users yet."

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.exists():
            self.stdout.write("Database already has users: no demo data added.")
            return
        with transaction.atomic():
            users = {name: self._create_user(User, name) for name in DEMO_USERS}
            lobby = room_create(name="Lobby", topic="Say hello", created_by=users["alice"])
            for name in ("bob", "carol"):
                room_join(room=lobby, user=users[name])
            team = room_create(name="Team", topic="Members only", is_private=True, created_by=users["alice"])
            Membership.objects.create(room=team, user=users["bob"])
            self._add_history(lobby, users, LOBBY_HISTORY)
            self._add_history(team, users, TEAM_HISTORY)
        self.stdout.write(self.style.SUCCESS("Demo data created. Log in as any of:"))
        for name in DEMO_USERS:
            self.stdout.write(f"  username {name:<6} password {DEMO_PASSWORD}")

    def _create_user(self, User, name):
        return User.objects.create_user(username=name, email=f"{name}@example.com", password=DEMO_PASSWORD)

    def _add_history(self, room, users, lines):
        # Seeded directly: demo history is not live traffic and must not trip the rate limit.
        start = timezone.now() - timedelta(minutes=len(lines) * 3)
        Message.objects.bulk_create(
            Message(
                room=room,
                author=users[author],
                body=body,
                body_html=render_message_html(body),
                created_at=start + timedelta(minutes=3 * i),
            )
            for i, (author, body) in enumerate(lines)
        )
