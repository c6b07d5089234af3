"""Metrics every stage reports, declared once with bounded label sets (``newsmon_`` prefix).

Stage-specific metrics live in each service's own ``metrics.py``.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
    "newsmon_processing_seconds", "Time a stage spent on one message or batch.", ["service"]
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
