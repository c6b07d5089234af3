"""Metrics of the ner service, declared once (``newsmon_ner_`` prefix, bounded labels).

Batch durations go to the shared ``newsmon_processing_seconds{service="ner"}``.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from shared.metrics import HOP_BUCKETS

ENTITIES = Counter("newsmon_ner_entities_total", "Entity mentions found, by label.", ["label"])
ARTICLES = Counter(
    "newsmon_ner_articles_total",
    "Articles enriched, by NER mode (full, patterns_only for other languages, none for blank text).",
    ["mode"],
)
TRUNCATED = Counter("newsmon_ner_truncated_total", "Articles annotated only up to NEWSMON_NER_MAX_CHARS.")
BATCH_ARTICLES = Histogram(
    "newsmon_ner_batch_articles", "Articles per micro-batch.", buckets=(1, 2, 4, 8, 16, 32, 64, 128)
)
WORKERS_REPLACED = Counter(
    "newsmon_ner_worker_pools_replaced_total",
    "Worker pools started again because a worker process ended mid-batch (killed, out of memory); the batch "
    "was annotated again by the new pool.",
)
INPUT_WAIT = Histogram(
    "newsmon_ner_input_wait_seconds",
    "From an articles.unique message's producer timestamp to its micro-batch starting: the broker hop, the "
    "consumer's fetch wait and the batch window.", buckets=HOP_BUCKETS,
)

for _mode in ("full", "patterns_only", "none"):
    ARTICLES.labels(_mode)
