"""Export memory: does exporting a room hold its history whole?

    make bench-export
    .venv/bin/python -m bench.export --sizes 10000,100000,1000000 [--formats json,html] [--keep-db]

Fills one room of a database of its own (chat_bench_export) with bench/history.py's
messages, growing it to each size in turn, and at each size runs `manage.py
export_room` (production settings) in a child process per format, writing to a
file. The child's peak resident memory is its rusage from os.wait4 (ru_maxrss: the
figure getrusage(RUSAGE_CHILDREN) gives, but for that one child, not the largest
child so far). An export that streams a page at a time peaks at the same memory
whatever the room's size; one that builds the list grows with it.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import environment, history
from bench.environment import PROJECT_DIR, BenchEnvironment
from bench.stats import number, print_table

MIB = 1024 * 1024
# Flat: the largest room's peak within this much of the smallest's.
FLAT_TARGET_MIB = 20


def export_peak(env, *, export_format, output):
    """(seconds, peak RSS in bytes) of one `manage.py export_room` child process."""
    command = [
        sys.executable,
        "manage.py",
        "export_room",
        history.ROOM_SLUG,
        "--format",
        export_format,
        "--output",
        str(output),
    ]
    started = time.monotonic()
    child = subprocess.Popen(command, cwd=PROJECT_DIR, env=env.server_environment())
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"export_room --format {export_format} exited with {child.returncode}")
    return time.monotonic() - started, usage.ru_maxrss * 1024  # Linux: kilobytes


def room_grow_to(count):
    """Add messages to the bench room until it holds `count` (created on first use)."""
    from django.contrib.auth import get_user_model

    from rooms.models import Room

    have = history.filled_count() if Room.objects.filter(slug=history.ROOM_SLUG).exists() else None
    if have is None:
        history.data_create(count)
        return
    if count > have:
        room = Room.objects.get(slug=history.ROOM_SLUG)
        authors = get_user_model().objects.filter(username__startswith="author-")
        author_ids = list(authors.values_list("pk", flat=True))
        history.room_fill(room_id=room.pk, author_ids=author_ids, count=count - have)


def measure(env, sizes, formats, folder):
    results = []
    for size in sizes:
        room_grow_to(size)
        for export_format in formats:
            output = Path(folder) / f"export.{export_format}"
            seconds, peak = export_peak(env, export_format=export_format, output=output)
            results.append(
                {
                    "messages": size,
                    "format": export_format,
                    "seconds": seconds,
                    "file_bytes": output.stat().st_size,
                    "peak_rss": peak,
                }
            )
            output.unlink()
            line = f"  exported {size:,} as {export_format}: {seconds:.1f} s, peak {peak / MIB:.0f} MiB"
            print(line, file=sys.stderr)
    return results


def report(results, formats):
    rows = [
        (
            f"{r['messages']:,} messages, {r['format']}",
            number(r["seconds"], 1),
            f"{r['messages'] / r['seconds']:,.0f}",
            number(r["file_bytes"] / MIB, 1),
            number(r["peak_rss"] / MIB, 1),
        )
        for r in results
    ]
    print_table(
        "\n== export: manage.py export_room, one child process per export (production settings) ==",
        ["seconds", "messages/s", "file MiB", "peak RSS MiB"],
        rows,
    )
    for export_format in formats:
        peaks = [r["peak_rss"] for r in results if r["format"] == export_format]
        spread = (max(peaks) - min(peaks)) / MIB
        verdict = "met" if spread <= FLAT_TARGET_MIB else "NOT met"
        print(
            f"  {export_format}: peak RSS from {min(peaks) / MIB:.0f} to {max(peaks) / MIB:.0f} MiB "
            f"across sizes (flat within {FLAT_TARGET_MIB} MiB: {verdict})"
        )


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,1000000", help="room sizes, smallest first")
    parser.add_argument("--formats", default="json,html")
    parser.add_argument("--db-name", default="chat_bench_export")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database at the end")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    formats = args.formats.split(",")
    env = BenchEnvironment(db_name=args.db_name, log_level="WARNING")
    for line in environment.machine_summary():
        print(line)
    environment.database_recreate(env.db_name)
    environment.django_setup(env)
    environment.migrate()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
            results = measure(env, sizes, formats, folder)
    finally:
        if not args.keep_db:
            environment.database_drop(env.db_name)
    report(results, formats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
