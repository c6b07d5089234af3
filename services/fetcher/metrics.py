"""The fetcher's own metrics, declared once (``newsmon_`` prefix; ``source`` labels are bounded by the sources file).

The ones every stage reports are in ``shared/metrics.py``.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from shared.metrics import HOP_BUCKETS

FETCHES = Counter("newsmon_fetches_total", "HTTP fetches by outcome.", ["outcome"])
FETCHED_BYTES = Counter("newsmon_fetched_bytes_total", "Response bytes read by the fetcher.")
FETCH_SECONDS = Histogram("newsmon_fetch_seconds", "Duration of one HTTP fetch, retries included.")
SKIPPED = Counter("newsmon_fetch_skipped_total", "Items and source polls skipped by the fetcher, by reason.",
                  ["reason"])
# What a hostile or broken server can cost us, each refused by kind: a body too large once
# decompressed, too slow to finish within the deadline, in an encoding not asked for, or on an
# address the guard refuses. Counted from 0, so the first one after a restart shows in increase().
HOSTILE_KINDS = ("too_large", "too_slow", "bad_encoding", "refused_address")
for kind in HOSTILE_KINDS:
    FETCHES.labels(kind)
    SKIPPED.labels(kind)
LAST_SUCCESS = Gauge("newsmon_source_last_success_timestamp_seconds", "Last successful poll.", ["source"])
LAST_ARTICLE = Gauge(
    "newsmon_source_last_article_timestamp_seconds",
    "Publication time of the newest article published, never later than its fetch.", ["source"],
)
SOURCE_ERRORS = Gauge("newsmon_source_consecutive_errors", "Failed polls in a row.", ["source"])
PUBLISH_LATENCY = Histogram(
    "newsmon_fetcher_publish_latency_seconds",
    "From reading an article (its fetched_at) to the broker's acknowledgement of it on articles.raw.",
    buckets=HOP_BUCKETS,
)
