"""Every delivery outcome kept for replay raises the Prometheus alert and shows on the failures panel."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from services.notifier.webhooks.queue import KEPT_OUTCOMES

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
SELECTOR = re.compile(r'newsmon_webhook_deliveries_total\{outcome=~"([^"]+)"\}')


def selected_outcomes(expression: str) -> set[str]:
    match = SELECTOR.search(expression)
    assert match, expression
    return set(match.group(1).split("|"))


def test_the_webhook_failure_alert_covers_every_kept_outcome() -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    expression = next(rule["expr"] for rule in rules if rule["alert"] == "NewsmonWebhookFailures")
    assert selected_outcomes(expression) == KEPT_OUTCOMES


def test_the_failed_deliveries_panel_covers_every_kept_outcome() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "alerts.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
                   if SELECTOR.search(target["expr"])]
    assert expressions
    for expression in expressions:
        assert selected_outcomes(expression) == KEPT_OUTCOMES
