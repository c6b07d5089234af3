"""The notifier's own metrics, declared once (``newsmon_`` prefix, labels bounded by outcomes and formats)."""

from __future__ import annotations

from typing import get_args

from prometheus_client import Counter, Gauge, Histogram

from services.notifier.webhooks.queue import Outcome
from services.notifier.webhooks.subscriptions import Format
from shared.metrics import END_TO_END_BUCKETS, HOP_BUCKETS

INPUT_WAIT = Histogram(
    "newsmon_notifier_input_wait_seconds",
    "From an alerts message's producer timestamp to the notifier starting on it: the broker hop and the "
    "consumer's fetch wait.", buckets=HOP_BUCKETS,
)
DELIVERIES = Counter(
    "newsmon_webhook_deliveries_total", "Webhook delivery attempts, by outcome.", ["outcome"]
)
# Every outcome exists at 0 from the start: Prometheus's increase() cannot see the first failure of
# a series born at 1, so the failure alert would miss the first failed delivery after each restart.
for outcome in get_args(Outcome):
    DELIVERIES.labels(outcome)
DELIVERY_SECONDS = Histogram(
    "newsmon_webhook_delivery_seconds", "Time from sending a webhook POST to its response headers.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
DELIVERED_LATENCY = Histogram(
    "newsmon_webhook_delivered_latency_seconds",
    "From an article's fetch to a receiver's 2xx for its alert, per delivered (alert, target).",
    buckets=END_TO_END_BUCKETS,
)
NOTIFICATIONS = Counter(
    "newsmon_notifications_total",
    "Messages settled per target, by the target's format and how it ended: delivered, a kept failure (failed, "
    "gone, refused, disabled), cancelled, silenced (a silence held it back) or digested (kept for a digest).",
    ["format", "outcome"],
)
DIGESTS = Counter("newsmon_digests_total", "Digests queued, by the subscription's format.", ["format"])
for format_name in get_args(Format):
    DIGESTS.labels(format_name)
    for outcome in (*get_args(Outcome), "silenced", "digested"):
        if outcome != "retry":
            NOTIFICATIONS.labels(format_name, outcome)
SUBSCRIPTIONS_DISABLED = Counter(
    "newsmon_subscriptions_disabled_total", "Subscriptions disabled because their receiver answered 410 Gone."
)
ACTIVE_SILENCES = Gauge("newsmon_silences_active", "Silences in force now.")
