"""Metrics every stage reports, declared once with bounded label sets (``newsmon_`` prefix).

Stage-specific metrics live in each service's own ``metrics.py``.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

# Buckets of the per-hop latencies (each stage's input wait, the fetcher's publish): fine enough
# below a second to tell a millisecond hop from a fetch wait, for the "alert within a second" budget.
HOP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Buckets of the end-to-end latencies (fetch to alert, fetch to webhook): the second that matters
# in detail, then minutes and hours for a backlog or a receiver that was down.
END_TO_END_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60, 120, 300, 900, 3600, 6 * 3600, 24 * 3600)

MESSAGES_IN = Counter(
    "newsmon_messages_in_total", "Messages a stage consumed.", ["service", "topic"]
)
MESSAGES_OUT = Counter(
    "newsmon_messages_out_total", "Messages a stage produced.", ["service", "topic"]
)
DEAD_LETTERS = Counter(
    "newsmon_dead_letters_total",
    "Messages sent to a dead-letter topic, by reason kind.",
    ["service", "reason"],
)
PROCESSING_SECONDS = Histogram(
    "newsmon_processing_seconds", "Time a stage spent on one message or batch.", ["service"], buckets=HOP_BUCKETS
)
TRANSIENT_ERRORS = Counter(
    "newsmon_transient_errors_total",
    "Retried failures of Redis or Kafka while handling a message.",
    ["service"],
)
LAST_ACTIVITY = Gauge(
    "newsmon_last_activity_timestamp_seconds",
    "When the stage last consumed or produced a message.",
    ["service"],
)
BACKGROUND_FAILURES = Counter(
    "newsmon_background_failures_total",
    "Failures of a service's timers and background tasks, each retried after a backoff, by job.",
    ["service", "job"],
)


def seconds_since(epoch_s: float) -> float:
    """Seconds from ``epoch_s`` (a message's producer timestamp, a fetch time) to now, for a latency
    histogram; never negative, so a producer's clock slightly ahead of this host's counts as 0."""
    return max(0.0, time.time() - epoch_s)
