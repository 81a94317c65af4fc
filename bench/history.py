"""History benchmark: a room of 1,000,000 messages, its pages, catch-up and search.

    make bench-history
    .venv/bin/python -m bench.history --messages 1000000 --repeat 200 [--reuse]

Fills one room of a database of its own (chat_bench_history) with COPY, in
production settings, then times with Django's test Client (the whole view,
middleware and template; no network): the room page, `?before=` pages at the
newest, middle and oldest end, `?after=` catch-up, search (one room and every
room) and the admin's message list, printing p50 and p99 and the number of
queries of each. Targets (issue 7): page p50 <= 15 ms, oldest/newest <= 1.2,
the same number of queries wherever the page is.
"""

import argparse
import statistics
import sys
import time
from datetime import timedelta

from bench import environment
from bench.environment import BenchEnvironment
from bench.stats import number, percentile, print_table

ROOM_SLUG = "history"
AUTHORS = 20
COPY_BATCH = 50_000
PAGE_P50_TARGET_MS = 15.0
DEPTH_RATIO_TARGET = 1.2
PLACEHOLDER = "NUMBERPLACEHOLDER"
# A few distinct bodies (rendered once, numbered per row); one in NEEDLE_EVERY carries a rare word.
BODIES = [
    "History message {n}: the quick brown fox jumps over the lazy dog.",
    "Message {n} with **bold** and *italic* text, and `inline code`.",
    "Line one of message {n}\nline two, with a link https://example.com/notes/{n}",
    "Meeting notes {n}: agenda, budget, timeline and next steps for the launch.",
    "Short message {n}",
    "Question {n}: has anyone seen the deployment logs from yesterday? The message queue looked slow.",
    "A longer message {n}. "
    + "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco.",
]
NEEDLE_BODY = "Rare needle {n} hidden in a haystack of messages."
NEEDLE_EVERY = 10_000


# --- filling the room -------------------------------------------------------------------


def rendered_bodies():
    """(body template, HTML template) pairs: each body rendered once by the app's renderer."""
    from messages_app.text import render_message_html

    pairs = []
    for body in [*BODIES, NEEDLE_BODY]:
        html = render_message_html(body.format(n=PLACEHOLDER))
        pairs.append((body, html))
    return pairs[:-1], pairs[-1]


def copy_columns():
    """Every concrete column of Message but the id, and a value for those the bench
    does not vary (the field's default), so a new column does not break the fill."""
    from messages_app.models import Message

    varying = {"room_id", "author_id", "body", "body_html", "created_at"}
    fields = [f for f in Message._meta.concrete_fields if not f.primary_key]
    constant = {f.column: f.get_default() for f in fields if f.attname not in varying}
    return [f.column for f in fields], constant


def message_rows(*, room_id, author_ids, count, constant, columns):
    """Rows in column order: a fixed set of bodies, numbered, one second apart, oldest first."""
    from django.utils import timezone

    bodies, needle = rendered_bodies()
    start = timezone.now() - timedelta(seconds=count)
    for n in range(count):
        body, html = needle if n % NEEDLE_EVERY == NEEDLE_EVERY // 2 else bodies[n % len(bodies)]
        values = {
            "room_id": room_id,
            "author_id": author_ids[n % len(author_ids)],
            "body": body.format(n=n),
            "body_html": html.replace(PLACEHOLDER, str(n)),
            "created_at": start + timedelta(seconds=n),
            **constant,
        }
        yield [values[column] for column in columns]


def progress(done, total, started):
    elapsed = time.monotonic() - started
    width = 30
    filled = int(width * done / total)
    rate = done / elapsed if elapsed else 0
    bar = "#" * filled + "." * (width - filled)
    sys.stderr.write(f"\r  [{bar}] {done:,}/{total:,} messages, {elapsed:.0f} s, {rate:,.0f}/s ")
    sys.stderr.flush()


def room_fill(*, room_id, author_ids, count):
    """COPY `count` messages into the room, with a progress bar, then VACUUM ANALYZE."""
    import psycopg
    from django.conf import settings

    columns, constant = copy_columns()
    rows = message_rows(
        room_id=room_id, author_ids=author_ids, count=count, constant=constant, columns=columns
    )
    url = environment.BenchEnvironment(db_name=settings.DATABASES["default"]["NAME"]).database_url
    started = time.monotonic()
    column_list = ", ".join(f'"{column}"' for column in columns)
    with psycopg.connect(url, autocommit=True) as conn:
        done = 0
        while done < count:
            batch = min(COPY_BATCH, count - done)
            statement = f"COPY messages_app_message ({column_list}) FROM STDIN"
            with conn.transaction(), conn.cursor() as cursor, cursor.copy(statement) as copy:
                for _ in range(batch):
                    copy.write_row(next(rows))
            done += batch
            progress(done, count, started)
        sys.stderr.write("\n")
        # A production table has statistics and a visibility map; a fresh COPY has neither.
        conn.execute("VACUUM ANALYZE messages_app_message")
    print(f"filled {count:,} messages in {time.monotonic() - started:.0f} s (COPY, then VACUUM ANALYZE)")


def data_create(count):
    """The room, its authors, a reader and a staff user; then the messages."""
    from django.contrib.auth import get_user_model

    from rooms.models import Membership, Room

    User = get_user_model()
    authors = User.objects.bulk_create([User(username=f"author-{i}") for i in range(AUTHORS)])
    reader = User.objects.create_user("reader")
    User.objects.create_superuser("staff", "staff@bench.invalid", None)
    room = Room.objects.create(name="History", slug=ROOM_SLUG, created_by=authors[0])
    Membership.objects.bulk_create(
        [Membership(room=room, user=user) for user in [*authors, reader]], ignore_conflicts=True
    )
    room_fill(room_id=room.pk, author_ids=[a.pk for a in authors], count=count)


def filled_count():
    from messages_app.models import Message

    return Message.objects.filter(room__slug=ROOM_SLUG).count()


# --- timing -------------------------------------------------------------------------------


COLD = " (first view)"  # the process's message fragment cache emptied before each request


def targets(room_id_range, room_id):
    """(name, URL, who) of every request timed, at the newest, middle and oldest end.
    A name ending in COLD is timed with messages_app/fragments.py's cache emptied first:
    a page nobody opened lately; the others show what every later view costs."""
    oldest, newest = room_id_range
    middle = (oldest + newest) // 2
    room = f"/rooms/{ROOM_SLUG}"
    return [
        ("room page", f"{room}/", "reader"),
        ("room page" + COLD, f"{room}/", "reader"),
        ("room page ?around= middle", f"{room}/?around={middle}", "reader"),
        ("?before= newest", f"{room}/messages/?before={newest - 49}", "reader"),
        ("?before= middle", f"{room}/messages/?before={middle}", "reader"),
        ("?before= middle" + COLD, f"{room}/messages/?before={middle}", "reader"),
        ("?before= oldest", f"{room}/messages/?before={oldest + 50}", "reader"),
        ("?after= newest (50 missed)", f"{room}/messages/?after={newest - 50}", "reader"),
        ("?after= oldest (500 + marker)", f"{room}/messages/?after={oldest}", "reader"),
        ("search room, rare word", f"{room}/search/?q=needle", "reader"),
        ("search room, common word", f"{room}/search/?q=message", "reader"),
        ("search all rooms, rare word", "/search/?q=needle", "reader"),
        ("admin message list", "/admin/messages_app/message/", "staff"),
        ("admin message list, one room", f"/admin/messages_app/message/?room__id__exact={room_id}", "staff"),
    ]


def time_requests(client, url, repeat, *, cold=False):
    """Status of the last response and every duration (ms), after a short warm-up."""
    from django.core.cache import caches

    for _ in range(3):
        client.get(url)
    durations = []
    for _ in range(repeat):
        if cold:
            caches["fragments"].clear()
        started = time.perf_counter()
        response = client.get(url)
        durations.append((time.perf_counter() - started) * 1000)
    return response.status_code, durations


def query_count(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured)


def measure(repeat, search_repeat):
    from django.contrib.auth import get_user_model
    from django.db.models import Max, Min
    from django.test import Client

    from messages_app.models import Message
    from rooms.models import Room

    room = Room.objects.get(slug=ROOM_SLUG)
    bounds = Message.objects.filter(room=room).aggregate(Min("id"), Max("id"))
    clients = {}
    for username in ("reader", "staff"):
        clients[username] = Client()
        clients[username].force_login(get_user_model().objects.get(username=username))
    results = []
    for name, url, who in targets((bounds["id__min"], bounds["id__max"]), room.pk):
        n = search_repeat if "search" in name or "admin" in name else repeat
        status, durations = time_requests(clients[who], url, n, cold=name.endswith(COLD))
        ordered = sorted(durations)
        results.append(
            {
                "name": name,
                "url": url,
                "status": status,
                "requests": n,
                "p50_ms": statistics.median(durations),
                "p99_ms": percentile(ordered, 0.99),
                "queries": query_count(clients[who], url),
            }
        )
        print(f"  timed {name}: HTTP {status}, p50 {results[-1]['p50_ms']:.1f} ms", file=sys.stderr)
    return results


# --- report ---------------------------------------------------------------------------------


def report(results, count):
    rows = []
    for r in results:
        missing = r["status"] == 404 and "search" in r["name"]
        rows.append(
            (
                r["name"],
                "missing (404)" if missing else r["status"],
                number(r["p50_ms"], 1),
                number(r["p99_ms"], 1),
                r["queries"],
            )
        )
    print_table(
        f"\n== history: one room of {count:,} messages (Django test Client, production settings) ==",
        ["HTTP", "p50 ms", "p99 ms", "queries"],
        rows,
    )
    by_name = {r["name"]: r for r in results}
    page_names = ["room page", "?before= newest", "?before= middle", "?before= oldest"]
    slowest = max(by_name[name]["p50_ms"] for name in page_names)
    depth = by_name["?before= oldest"]["p50_ms"] / by_name["?before= newest"]["p50_ms"]
    before_queries = {by_name[name]["queries"] for name in page_names[1:]}
    after_queries = {by_name[name]["queries"] for name in by_name if name.startswith("?after=")}
    verdict = {True: "met", False: "NOT met"}
    fast, flat = slowest <= PAGE_P50_TARGET_MS, depth <= DEPTH_RATIO_TARGET
    print(f"  page p50 <= {PAGE_P50_TARGET_MS:g} ms: slowest {slowest:.1f} ms, {verdict[fast]}")
    first_view = max(r["p50_ms"] for r in results if r["name"].endswith(COLD))
    print(
        f"  the same on a first view (fragments not cached yet): slowest {first_view:.1f} ms, "
        f"{verdict[first_view <= PAGE_P50_TARGET_MS]}"
    )
    print(f"  oldest/newest ?before= p50: {depth:.2f} (<= {DEPTH_RATIO_TARGET}: {verdict[flat]})")
    print(
        f"  query count constant: ?before= {sorted(before_queries)}, ?after= {sorted(after_queries)} "
        f"({verdict[len(before_queries) == 1 and len(after_queries) == 1]})"
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=200, help="requests per page timed")
    parser.add_argument("--search-repeat", type=int, default=30, help="requests per search and admin list")
    parser.add_argument("--db-name", default="chat_bench_history")
    parser.add_argument("--reuse", action="store_true", help="keep an already filled database")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    return parser.parse_args(argv)


def prepare(args, env):
    """A migrated database holding the filled room (reused when asked and complete)."""
    reuse = args.reuse and environment.database_exists(env.db_name)
    if not reuse:
        environment.database_recreate(env.db_name)
    environment.django_setup(env)
    environment.migrate()
    if reuse and filled_count() == args.messages:
        print(f"reusing {args.messages:,} messages in {env.db_name}")
        return
    if reuse:
        environment.database_drop(env.db_name)
        environment.database_recreate(env.db_name)
        environment.migrate()
    data_create(args.messages)


def main(argv=None):
    args = parse_args(argv)
    env = BenchEnvironment(db_name=args.db_name, log_level="WARNING")
    for line in environment.machine_summary():
        print(line)
    prepare(args, env)
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)  # production pages need the manifest
    try:
        results = measure(args.repeat, args.search_repeat)
    finally:
        if not (args.keep_db or args.reuse):
            environment.database_drop(env.db_name)
    report(results, args.messages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
