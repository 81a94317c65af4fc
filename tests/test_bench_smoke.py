"""Keep the fan-out benchmark working: one small run (2 rooms x 5 members, 3 s).

Performance is never asserted here (the bench prints figures for people to
read); only that every message reached every member exactly once, for our
consumer and for the baseline, and that the report printed its lines.

The run uses a database of its own (chat_bench_smoke_<pid>, dropped at the
end), a fresh Redis prefix and free ports, so it disturbs no other test.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
REPORT_LINES = [
    "sockets held",
    "messages saved /s",
    "frames delivered /s",
    "latency p99 ms",
    "lost",
    "duplicated",
    "server CPU s per 1,000 frames",
    "server memory per socket KiB",
    "load generator, % of a core per worker",
    "ours/baseline frames/s",
    "ours/baseline p99",
]


def run_quick_bench(tmp_path):
    figures = tmp_path / "bench.json"
    command = [
        sys.executable,
        "-m",
        "bench.fanout",
        "--quick",
        "--loadgen-processes",
        "1",
        "--db-name",
        f"chat_bench_smoke_{os.getpid()}",
        "--json",
        str(figures),
    ]
    completed = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=100)
    assert figures.exists(), f"the bench did not finish:\n{completed.stdout}\n{completed.stderr}"
    return completed.stdout, json.loads(figures.read_text())


def test_quick_bench_delivers_every_message_once_to_every_member(tmp_path):
    output, figures = run_quick_bench(tmp_path)

    runs = {run["kind"]: run for run in figures["runs"]}
    assert set(runs) == {"ours", "baseline"}
    for kind, run in runs.items():
        for step in [run["check"], *run["steps"]]:
            assert step["delivered"] > 0, (kind, output)
            assert step["lost"] == 0, (kind, output)
            assert step["duplicated"] == 0, (kind, output)
    for line in REPORT_LINES:
        assert line in output, f"{line!r} missing from the report:\n{output}"
