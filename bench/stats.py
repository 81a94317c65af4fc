"""Figures of one measured step, and the tables the bench prints."""

from dataclasses import asdict, dataclass, field

# A process using this share of a core (or more) was the limit of the run.
SATURATED_SHARE = 0.9
MACHINE_SATURATED_SHARE = 0.95


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, round(fraction * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class StepResult:
    """What one step (a fixed rate for a fixed time) measured."""

    rate: float  # messages per second asked for
    duration: float
    sockets: int
    sent: int = 0
    send_errors: int = 0
    worst_send_lag_ms: float = 0.0
    saved: int = 0
    delivered: int = 0
    window: float = 0.0  # first send to last receipt, seconds
    lost: int = 0
    duplicated: int = 0
    stray: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    server_cpu: float = 0.0  # seconds, all server processes
    server_busiest_share: float = 0.0  # the busiest server process, share of one core
    loadgen_shares: list = field(default_factory=list)
    redis_cpu: float = 0.0
    postgres_cpu: float = 0.0
    machine_busy_share: float = 0.0
    others_share: float = 0.0  # CPU of everything else on the machine, in cores (other people's tests...)
    other_frames: int = 0
    other_bytes: int = 0
    closed_codes: dict = field(default_factory=dict)

    def set_latencies(self, latencies_ns):
        ordered = sorted(latencies_ns)
        for name, fraction in (("p50_ms", 0.50), ("p95_ms", 0.95), ("p99_ms", 0.99), ("max_ms", 1.0)):
            value = percentile(ordered, fraction)
            setattr(self, name, None if value is None else value / 1e6)

    @property
    def frames_per_second(self):
        return self.delivered / self.window if self.window > 0 else 0.0

    @property
    def sent_per_second(self):
        return self.sent / self.duration

    @property
    def saved_per_second(self):
        return self.saved / self.duration

    @property
    def server_cpu_per_1000_frames(self):
        return 1000 * self.server_cpu / self.delivered if self.delivered else None

    @property
    def clean(self):
        return self.lost == 0 and self.duplicated == 0

    def limits(self):
        """What held this step back, from the CPU readings (empty when nothing was saturated)."""
        found = []
        if self.loadgen_shares and max(self.loadgen_shares) >= SATURATED_SHARE:
            found.append(
                f"load generator was the bottleneck (a worker at {max(self.loadgen_shares):.0%} of a core)"
            )
        if self.server_busiest_share >= SATURATED_SHARE:
            found.append(f"a server process at {self.server_busiest_share:.0%} of a core")
        if self.machine_busy_share >= MACHINE_SATURATED_SHARE:
            found.append(f"the machine's CPUs were {self.machine_busy_share:.0%} busy")
        return found

    def as_dict(self):
        data = asdict(self)
        data.update(
            frames_per_second=self.frames_per_second,
            saved_per_second=self.saved_per_second,
            server_cpu_per_1000_frames=self.server_cpu_per_1000_frames,
        )
        return data


def number(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def ratio(ours, baseline):
    if ours is None or baseline in (None, 0):
        return None
    return ours / baseline


def print_table(title, columns, rows):
    """A plain table: rows are (label, value per column...)."""
    print(title)
    widths = [max(len(str(row[i])) for row in [("", *columns), *rows]) for i in range(len(columns) + 1)]
    for row in [("", *columns), *rows]:
        cells = [str(row[0]).ljust(widths[0])] + [
            str(c).rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("  " + "  ".join(cells).rstrip())
