"""CPU seconds and resident memory of processes, read from /proc (Linux).

The bench reads these before and after a measured step: the difference is what
the step cost each process, whatever else the machine was doing meanwhile.
"""

import os
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid):
    """User + system CPU time of one process so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # After the ")" of the command name: field 3 is index 0, so utime (14) is 11, stime (15) is 12.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_bytes(pid):
    """Resident memory of one process now (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * PAGE_BYTES
    except (FileNotFoundError, ProcessLookupError):
        return 0


def machine_busy_seconds():
    """(busy, total) CPU seconds of the whole machine since boot, all cores together."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # without guest time, which is already in user
    return (total - idle) / CLOCK_TICKS, total / CLOCK_TICKS


def process_name(pid):
    try:
        with open(f"/proc/{pid}/comm") as comm:
            return comm.read().strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


@dataclass
class CpuMeter:
    """CPU used by a set of processes between start() and stop(), and the wall time."""

    pids: dict  # label -> pid

    def start(self, now):
        self.started_at = now
        self.before = {label: cpu_seconds(pid) for label, pid in self.pids.items()}
        self.machine_before = machine_busy_seconds()

    def stop(self, now):
        self.wall = max(now - self.started_at, 1e-9)
        self.used = {label: cpu_seconds(pid) - self.before[label] for label, pid in self.pids.items()}
        busy_after, total_after = machine_busy_seconds()
        busy = busy_after - self.machine_before[0]
        total = total_after - self.machine_before[1]
        self.machine_busy_share = busy / total if total > 0 else 0.0
        self.machine_busy_seconds = busy

    def share_of_core(self, label):
        """CPU seconds per wall second: 1.0 is one core kept fully busy."""
        return self.used[label] / self.wall

    def total(self, prefix):
        return sum(used for label, used in self.used.items() if label.startswith(prefix))
