"""Management commands: post_message (same service as the page) and seed_demo."""

import re
from datetime import date, datetime, time, timedelta
from io import StringIO
from itertools import pairwise
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from messages_app import demo_data
from messages_app.management.commands.seed_demo import Command
from messages_app.models import Message
from messages_app.selectors import membership_list_for_user
from messages_app.text import mention_candidates, render_message_html
from rooms.models import Membership, Room

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
    assert set(Room.objects.exclude(kind=Room.Kind.DIRECT).values_list("slug", "is_private")) == {
        ("lobby", False),
        ("design", False),
        ("random", False),
        ("team", True),
    }
    assert sorted(conversation_people(room) for room in Room.objects.filter(kind=Room.Kind.DIRECT)) == [
        ["alice", "bob"],
        ["alice", "bob", "carol", "dave"],
        ["alice", "carol"],
    ]
    assert Message.objects.filter(room__slug="lobby").count() >= 5
    seeded = world_counts()

    call_command("seed_demo")
    assert world_counts() == seeded
    assert get_user_model().objects.count() == len(demo_data.PEOPLE)
    assert "no demo data added" in capsys.readouterr().out


def conversation_people(room):
    return sorted(room.memberships.values_list("user__username", flat=True))


def world_counts():
    return [
        model.objects.count()
        for model in (get_user_model(), Room, Membership, Message, Message.mentions.through)
    ]


def test_seed_demo_writes_days_of_history_in_bulk(django_assert_max_num_queries):
    # Rooms and members go through the services, messages in one insert per room: a
    # message at a time would take hundreds more.
    with django_assert_max_num_queries(170):
        call_command("seed_demo", stdout=StringIO())
    messages = list(Message.objects.order_by("room_id", "id"))
    assert len(messages) >= 200
    assert len({timezone.localdate(message.created_at) for message in messages}) >= 3
    assert max(message.created_at for message in messages) < timezone.now()
    for earlier, later in pairwise(messages):  # a room's order is its order in time
        assert earlier.room_id != later.room_id or earlier.created_at < later.created_at
    assert all(user.get_full_name() for user in get_user_model().objects.all())


@pytest.mark.parametrize("clock", ["00:05", "02:24", "09:00", "15:30", "23:59"])
def test_seed_demo_timeline_is_in_order_in_the_past_and_today_after_midnight(clock):
    now = timezone.make_aware(datetime.combine(date(2026, 12, 7), time.fromisoformat(clock)))
    for room in [*demo_data.ROOMS, *demo_data.CONVERSATIONS]:
        times = Command()._timeline(room, now)
        assert all(earlier < later for earlier, later in pairwise(times))
        assert times[-1] < now
        today = times[-len(room.days[-1].lines) :]
        if now.hour >= 1:  # not squeezed into minutes: today's talk starts after midnight
            assert timezone.localdate(today[0]) == timezone.localdate(now)
        first_day = timezone.localdate(now) - timedelta(days=room.days[0].days_ago)
        assert timezone.localdate(times[0]) == first_day


def test_seed_demo_renders_mentions_and_edits_as_the_services_do():
    call_command("seed_demo", stdout=StringIO())
    members = {
        room_id: dict(Membership.objects.filter(room=room_id).values_list("user__username", "user_id"))
        for room_id in Room.objects.values_list("id", flat=True)
    }
    mentioned = 0
    for message in Message.objects.prefetch_related("mentions"):
        room_members = members[message.room_id]
        names = mention_candidates(message.body) & room_members.keys()
        mentionable = {name: room_members[name] for name in names}
        assert message.body_html == render_message_html(message.body, mentionable=mentionable)
        recorded = {user.pk for user in message.mentions.all()}
        assert recorded == set(mentionable.values()) - {message.author_id}
        mentioned += bool(recorded)
    assert mentioned >= 10
    alice = get_user_model().objects.get(username="alice")
    ask = Message.objects.get(body__startswith="@alice could you check")
    assert f'<span class="mention" data-user="{alice.pk}">@alice</span>' in ask.body_html
    assert list(ask.mentions.all()) == [alice]

    edited = Message.objects.filter(edited_at__isnull=False)
    assert edited.count() >= 3
    assert all(m.edited_at > m.created_at and m.changed_at == m.edited_at for m in edited)


def test_seed_demo_private_room_is_for_its_members_only():
    call_command("seed_demo", stdout=StringIO())
    team = Room.objects.get(kind=Room.Kind.PRIVATE)
    members = set(team.memberships.values_list("user__username", flat=True))
    assert members == {"alice", "bob", "erin"}
    assert team.messages.count() >= 20
    dave = get_user_model().objects.get(username="dave")
    assert team.slug not in {m.room.slug for m in membership_list_for_user(user=dave)}


def test_seed_demo_leaves_the_demo_login_with_natural_unread_rooms():
    call_command("seed_demo", stdout=StringIO())
    alice = get_user_model().objects.get(username=demo_data.LOGIN)
    rooms = {
        m.room.name if m.room.kind != Room.Kind.DIRECT else " + ".join(conversation_people(m.room)): (
            m.unread_count,
            bool(m.unread_mentions),
        )
        for m in membership_list_for_user(user=alice)
    }
    assert rooms == {
        "Design": (2, True),
        "Lobby": (0, False),
        "Random": (12, False),
        "Team": (0, False),
        "alice + bob": (0, False),
        "alice + carol": (3, False),
        "alice + bob + carol + dave": (3, False),
    }


def test_the_readmes_demo_logins_work(client):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    users, password = re.search(r"adds demo users \(([^)]*)\), password `([^`]+)`", readme).groups()
    usernames = re.findall(r"`(\w+)`", users)
    assert usernames == [name for name, *_ in demo_data.PEOPLE]
    call_command("seed_demo", stdout=StringIO())
    for username in usernames:
        response = client.post("/accounts/login/", {"login": username, "password": password})
        assert response.status_code == 302
        assert client.get("/").context["user"].username == username
        client.logout()
