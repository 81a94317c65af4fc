"""Message fragment render time: do replies, reactions and link cards make it grow?

    make bench-render
    .venv/bin/python -m bench.render [--messages 200] [--repeat 20]

Fills one room of a database of its own (chat_bench_render) with messages of each
kind below (production settings), reads them as a history page does (the same
selector: one query, joins included) and renders each message's fragment
(messages_app/partials/message.html) `--repeat` times, uncached, printing the
p50 and p99 per fragment and each kind's ratio to a plain message. The fragment
is rendered once per change and never per recipient; what this measures is the
cost of that one render, and whether it stays flat as a message gathers more
replies or more people's reactions (the target: a message with many is within
1.2x of one with one). Ten different emoji are ten chips, printed for scale.
"""

import argparse
import sys
import time

from bench import environment
from bench.environment import BenchEnvironment
from bench.stats import number, percentile, print_table

ROOM_SLUG = "render"
FLAT_TARGET = 1.2


def _kinds():
    """{kind: a function that makes one message of that kind (author, room, n)}."""
    from django.utils import timezone

    from messages_app.models import LinkPreview, Message

    def plain(room, author, n):
        return Message.objects.create(
            room=room, author=author, body=f"A plain message {n} with **bold** text"
        )

    def reply(room, author, n):
        original = plain(room, author, n)
        return Message.objects.create(room=room, author=author, body=f"An answer {n}", reply_to=original)

    def replied(count):
        def make(room, author, n):
            message = plain(room, author, n)
            Message.objects.filter(pk=message.pk).update(reply_count=count)
            return message

        return make

    def with_card(room, author, n):
        message = plain(room, author, n)
        LinkPreview.objects.create(
            message=message,
            url=f"https://example.com/{n}",
            title=f"Example page {n}",
            description="A page about examples, with a longer description than a title.",
            site_name="Example",
            fetched_at=timezone.now(),
        )
        return message

    kinds = {"plain": plain, "reply (quote)": reply, "1 reply": replied(1), "100 replies": replied(100)}
    kinds["link card"] = with_card
    kinds.update(_reaction_kinds(plain))
    return kinds


def _reaction_kinds(plain):
    """Messages with reactions: one emoji of one person, or ten emoji of fifty people."""
    from messages_app.models import Reaction as reaction

    emoji = ["👍", "❤️", "😂", "🎉", "😮", "😢", "🚀", "👀", "🙏", "🔥"]

    def reacted(distinct, people):
        def make(room, author, n):
            message = plain(room, author, n)
            users = _people(people)
            reaction.objects.bulk_create(
                reaction(message=message, user=user, emoji=emoji[i % distinct])
                for i, user in enumerate(users)
            )
            return message

        return make

    return {
        "1 reaction": reacted(1, 1),
        "1 emoji, 50 people": reacted(1, 50),
        "10 emoji, 50 people": reacted(10, 50),
    }


_PEOPLE = []


def _people(count):
    from django.contrib.auth import get_user_model

    while len(_PEOPLE) < count:
        n = len(_PEOPLE)
        _PEOPLE.append(get_user_model().objects.create(username=f"reactor{n}", display_name=f"Reactor {n}"))
    return _PEOPLE[:count]


def fill(messages_per_kind):
    """{kind: its room}: a room per kind, holding messages of that kind only."""
    from django.contrib.auth import get_user_model

    from rooms.models import Membership, Room

    author = get_user_model().objects.create(username="author", display_name="The Author")
    rooms = {}
    for n, (kind, make) in enumerate(_kinds().items()):
        room = rooms[kind] = Room.objects.create(name=f"Render {kind}", slug=f"{ROOM_SLUG}-{n}")
        Membership.objects.create(room=room, user=author)
        for m in range(messages_per_kind):
            make(room, author, m)
    return rooms


def render_times(rooms, *, messages_per_kind, repeat):
    """{kind: [seconds per render]}, each message read as the room's history page reads it."""
    from django.template.loader import render_to_string

    from messages_app.selectors import message_page_latest

    times = {}
    for kind, room in rooms.items():
        messages = [
            message
            for message in message_page_latest(room=room, limit=messages_per_kind * 2).messages
            if message.reply_to_id or kind != "reply (quote)"  # that room holds the originals too
        ]
        _prefetch(messages)
        samples = []
        for _ in range(repeat):
            for message in messages:
                started = time.perf_counter()
                render_to_string("messages_app/partials/message.html", {"message": message, "room": room})
                samples.append(time.perf_counter() - started)
        times[kind] = samples
    return times


def _prefetch(messages):
    """What a history page prefetches besides the joins (parts: files; reactions)."""
    from messages_app.parts import parts_prefetch
    from messages_app.selectors import message_mention_names, reaction_groups_attach

    message_mention_names(messages)
    parts_prefetch(messages)
    reaction_groups_attach(messages)


def report(times):
    times = {kind: sorted(samples) for kind, samples in times.items()}
    plain = percentile(times["plain"], 0.5)
    rows = []
    for kind, samples in times.items():
        p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
        rows.append((kind, number(p50 * 1000, 3), number(p99 * 1000, 3), f"{p50 / plain:.2f}x"))
    print_table("Fragment render time, uncached", ["p50 ms", "p99 ms", "p50 / plain"], rows)
    # Flat in what the message gathers (replies, people); ten chips are ten buttons to render.
    checks = [("100 replies", "1 reply"), ("1 emoji, 50 people", "1 reaction")]
    for many, one in checks:
        if many in times:
            ratio = percentile(times[many], 0.5) / percentile(times[one], 0.5)
            verdict = "flat" if ratio <= FLAT_TARGET else "GROWS"
            print(f"{many} / {one}: {ratio:.2f}x ({verdict}, target <= {FLAT_TARGET})")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200, help="messages of each kind")
    parser.add_argument("--repeat", type=int, default=20, help="renders of each message")
    parser.add_argument("--db-name", default="chat_bench_render")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    env = BenchEnvironment(db_name=args.db_name, log_level="WARNING")
    for line in environment.machine_summary():
        print(line)
    environment.database_recreate(env.db_name)
    environment.django_setup(env)
    environment.migrate()
    try:
        rooms = fill(args.messages)
        report(render_times(rooms, messages_per_kind=args.messages, repeat=args.repeat))
    finally:
        environment.database_drop(env.db_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
