"""Management commands: post_message (same service as the page) and seed_demo."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from messages_app.models import Message
from rooms.models import Room

pytestmark = pytest.mark.django_db


def test_post_message_posts_as_the_user(room, member, capsys):
    call_command("post_message", room.slug, member.username, "from the command line")
    message = Message.objects.get()
    assert (message.author, message.room, message.body) == (member, room, "from the command line")
    assert f"Posted message {message.pk}" in capsys.readouterr().out


def test_post_message_applies_the_same_rules(room, user):
    with pytest.raises(CommandError, match="Join the room"):
        call_command("post_message", room.slug, user.username, "not a member")
    with pytest.raises(CommandError, match="No room"):
        call_command("post_message", "nope", user.username, "hi")
    assert not Message.objects.exists()


def test_seed_demo_creates_users_rooms_and_history_once(capsys):
    call_command("seed_demo")
    output = capsys.readouterr().out
    assert "username alice" in output and "password" in output
    assert set(Room.objects.values_list("slug", "is_private")) == {("lobby", False), ("team", True)}
    assert Message.objects.filter(room__slug="lobby").count() >= 5

    call_command("seed_demo")
    assert get_user_model().objects.count() == 3
    assert "no demo data added" in capsys.readouterr().out
