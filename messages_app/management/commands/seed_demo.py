from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from messages_app import demo_data
from messages_app.models import Message
from messages_app.services import message_import
from rooms.models import Membership, Room
from rooms.services import direct_conversation_open, room_create, room_join

EDIT_DELAY = timedelta(minutes=2)  # an edited demo message was corrected this long after
MIN_GAP = timedelta(seconds=10)  # between two messages of a room, whatever the clock says


class Command(BaseCommand):
    help = "Add the demo people, rooms and conversation (messages_app/demo_data.py) to a new database."

    def handle(self, *args, **options):
        User = get_user_model()
        if User.objects.exists():
            self.stdout.write("Database already has users: no demo data added.")
            return
        now = timezone.now()
        with transaction.atomic():
            people = self._create_people(User, now)
            for room in demo_data.ROOMS:
                self._create_room(room, people, now)
            for conversation in demo_data.CONVERSATIONS:
                self._create_conversation(conversation, people, now)
        self.stdout.write(self.style.SUCCESS("Demo data created. Log in as any of:"))
        for username, *_ in demo_data.PEOPLE:
            self.stdout.write(f"  username {username:<6} password {demo_data.PASSWORD}")

    def _create_people(self, User, now):
        password = make_password(demo_data.PASSWORD)  # hashed once: hashing is slow on purpose
        joined = now - timedelta(days=30)
        User.objects.bulk_create(
            User(
                username=name,
                first_name=first,
                last_name=last,
                display_name=f"{first} {last}",
                time_zone=time_zone,
                status_emoji=emoji,
                status_text=status,
                email=f"{name}@example.com",
                password=password,
                date_joined=joined,
            )
            for name, first, last, time_zone, emoji, status in demo_data.PEOPLE
        )
        return {user.username: user for user in User.objects.all()}

    def _create_room(self, spec, people, now):
        times = self._timeline(spec, now)
        room = room_create(
            name=spec.name, topic=spec.topic, is_private=spec.is_private, created_by=people[spec.owner]
        )
        for name in spec.members:
            if spec.is_private:  # as if invited: private rooms cannot be joined
                Membership.objects.create(room=room, user=people[name])
            else:
                room_join(room=room, user=people[name])
        self._write_history(room, spec, people, times)

    def _create_conversation(self, spec, people, now):
        opener, *others = (people[name] for name in spec.people)
        room = direct_conversation_open(user=opener, others=others)
        self._write_history(room, spec, people, self._timeline(spec, now))

    def _write_history(self, room, spec, people, times):
        # The room and its members predate its history.
        created = times[0] - timedelta(hours=1)
        Room.objects.filter(pk=room.pk).update(created_at=created)
        Membership.objects.filter(room=room).update(joined_at=created)
        messages = message_import(room=room, messages=self._messages(spec, people, times))
        self._mark_read(room, spec, messages)

    def _timeline(self, spec, now):
        """The time of each line of the room's script, in order and always in the past."""
        times, previous = [], None
        for day in spec.days:
            clocks = [self._clock(line[0]) for line in day.lines]
            if day.days_ago:
                date = timezone.localdate(now) - timedelta(days=day.days_ago)
                moments = [timezone.make_aware(datetime.combine(date, clock)) for clock in clocks]
            else:
                moments = self._today(day, clocks, now)
            for moment in moments:
                # Lines at the same minute keep the script's order.
                previous = moment if previous is None else max(moment, previous + MIN_GAP)
                times.append(previous)
        return times

    @staticmethod
    def _today(day, clocks, now):
        """Today's lines with their spacing, the last `ends_minutes_ago` before now; squeezed
        after midnight when it is early in the day (a day separator inside the morning's
        talk would look odd), but given half an hour at least."""
        last = clocks[-1].hour * 60 + clocks[-1].minute
        minutes_before = [day.ends_minutes_ago + last - clock.hour * 60 - clock.minute for clock in clocks]
        midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        room = max(0.9 * (now - midnight).total_seconds() / 60, 30)
        scale = min(1, room / max(minutes_before))
        return [now - timedelta(minutes=minutes * scale) for minutes in minutes_before]

    @staticmethod
    def _clock(text):
        return datetime.strptime(text, "%H:%M").time()

    def _messages(self, spec, people, times):
        lines = [line for day in spec.days for line in day.lines]
        messages = []
        for (_, author, body, *flags), created_at in zip(lines, times, strict=True):
            edited_at = created_at + EDIT_DELAY if demo_data.EDITED in flags else None
            messages.append(
                Message(
                    author=people[author],
                    body=body,
                    created_at=created_at,
                    edited_at=edited_at,
                    changed_at=edited_at,
                )
            )
        return messages

    def _mark_read(self, room, spec, messages):
        """Each member has read up to their own last message there (all of it if they
        never wrote), unless the script says otherwise."""
        newest = messages[-1].pk
        memberships = list(Membership.objects.filter(room=room).select_related("user"))
        for membership in memberships:
            own = [message.pk for message in messages if message.author_id == membership.user_id]
            if spec.unread.get(membership.user.username) == demo_data.READ_ALL or not own:
                membership.last_read_message_id = newest
            else:
                membership.last_read_message_id = own[-1]
        Membership.objects.bulk_update(memberships, ["last_read_message_id"])
