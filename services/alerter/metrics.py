"""The alerter's own metrics, declared once (``newsmon_`` prefix, labels bounded by the rule set)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from shared.metrics import END_TO_END_BUCKETS, HOP_BUCKETS

ALERTS_FIRED = Counter("newsmon_alerts_total", "Alerts published, by rule.", ["rule"])
ALERTS_SUPPRESSED = Counter(
    "newsmon_alerts_suppressed_total", "Alerts not sent because the rule's cooldown was running, by rule.", ["rule"]
)
ALERT_LATENCY = Histogram(
    "newsmon_alert_latency_seconds", "From fetch to alert, per alert.", buckets=END_TO_END_BUCKETS
)
INPUT_WAIT = Histogram(
    "newsmon_alerter_input_wait_seconds",
    "From an articles.enriched message's producer timestamp to the alerter starting on it: the broker hop and "
    "the consumer's fetch wait.", buckets=HOP_BUCKETS,
)
RULES_ACTIVE = Gauge("newsmon_rules_active", "Watch rules in force.")
RULE_RELOADS = Counter(
    "newsmon_rule_reloads_total", "Rule file changes seen, by outcome (ok: now active; error: previous rules kept).",
    ["outcome"],
)
