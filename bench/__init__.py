"""Benchmarks that print figures (see docs/performance.md).

    python -m bench.fanout    live fan-out: sockets, frames/s, latency, lost, CPU and memory
    python -m bench.history   history pages, catch-up and search over a 1,000,000-message room

Nothing here is imported by the app, except bench.baseline, and only when the
bench's own settings (bench.settings) turn the baseline route on.
"""
