"""Dedupe's own metrics (the ones every stage reports are in ``shared/metrics.py``)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from shared.metrics import HOP_BUCKETS

OUTCOMES = Counter("newsmon_dedupe_outcomes_total", "Dedupe verdicts.", ["outcome", "matched_on"])
STORY_OUTLETS = Histogram(
    "newsmon_dedupe_story_outlets",
    "Outlets carrying a story, observed each time a copy joins it.",
    buckets=(2, 3, 5, 10, 20, 50, 100),
)
REMOVED_LINES = Counter(
    "newsmon_dedupe_removed_lines_total", "Lines cleanup dropped before hashing, by why.", ["why"]
)
INPUT_WAIT = Histogram(
    "newsmon_dedupe_input_wait_seconds",
    "From an articles.raw message's producer timestamp to dedupe starting on it: the broker hop and the "
    "consumer's fetch wait.", buckets=HOP_BUCKETS,
)

# Every series exists at zero from the start, so dashboards show 0 rather than "no data".
OUTCOMES.labels("unique", "")
for _matched_on in ("text", "url", "minhash"):
    OUTCOMES.labels("duplicate", _matched_on)
for _why in ("repeated", "boilerplate"):
    REMOVED_LINES.labels(_why)
