"""The firing sequence of the alerter: what keeps every alert published once, and never lost.

For each rule that fires on an enriched article, in this order:

1. ask the alert log whether the alert (rule id + story id) still needs publishing, and whether
   the rule's cooldown lets it through (else it is recorded suppressed, and never sent);
2. publish the alert and wait for the broker's acknowledgement;
3. mark it published.

A crash between 2 and 3 publishes the alert again on redelivery with the same ``alert_id``, which
consumers dedupe on (the notifier queues each alert once per target); nothing is ever skipped.
The service's ``publish`` also keeps the alert's body before step 3, so that an embedded broker
that restarts empty gets it again (``republishing.py``).
Who hears an alert is the notifier's job, not the alerter's.
Everything the sequence touches is a port, so it runs the same on Redis and Kafka in the service
and on in-memory twins in the unit tests.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypedDict

from services.alerter.alert_content import build_alert
from services.alerter.alert_log import AlertLog
from services.alerter.metrics import ALERT_LATENCY, ALERTS_FIRED, ALERTS_SUPPRESSED
from services.alerter.rule_engine.matching import CompiledRule, RuleMatch, evaluate
from shared.logs import log_event
from shared.schemas import Alert, EnrichedArticle

logger = logging.getLogger(__name__)

PublishAlert = Callable[[Alert], Awaitable[None]]


class LiveRules(Protocol):
    """The rule set in force (``RuleBook``): current once ``refresh`` has run."""

    rules: list[CompiledRule]

    @property
    def loaded(self) -> bool: ...

    async def refresh(self) -> bool: ...


class AlertFiring:
    """Turns an enriched article into published alerts, each once."""

    def __init__(self, rules: LiveRules, log: AlertLog, publish: PublishAlert) -> None:
        self.rules = rules
        self.log = log
        self.publish = publish

    async def on_article(self, article: EnrichedArticle) -> list[Alert]:
        """Fire every rule that matches ``article``; the alerts published now (not those sent before)."""
        if not self.rules.loaded:  # after a restart, the API rules count from the first article on
            await self.rules.refresh()
        fired = []
        for match in evaluate(self.rules.rules, article):
            alert = build_alert(match, article)
            if await self._may_fire(alert, match, article):
                await self._fire(alert, article)
                fired.append(alert)
        return fired

    async def _may_fire(self, alert: Alert, match: RuleMatch, article: EnrichedArticle) -> bool:
        """True unless this alert was already sent, or the rule's cooldown holds it back (then never sent)."""
        ids = _ids(alert, article)
        if not await self.log.needs_publishing(alert.alert_id):
            log_event(logger, "alert.already_sent", **ids)
            return False
        cooldown = match.rule.cooldown
        if cooldown is not None and not await self.log.claim_cooldown(alert.rule_id, alert.alert_id, cooldown):
            await self.log.mark_suppressed(alert.alert_id)
            ALERTS_SUPPRESSED.labels(alert.rule_id).inc()
            log_event(logger, "alert.suppressed_by_cooldown", cooldown_s=cooldown, **ids)
            return False
        return True

    async def _fire(self, alert: Alert, article: EnrichedArticle) -> None:
        await self.publish(alert)
        await self.log.mark_published(alert.alert_id)
        ALERTS_FIRED.labels(alert.rule_id).inc()
        if alert.latency_s is not None:
            ALERT_LATENCY.observe(alert.latency_s)
        log_event(logger, "alert.fired", latency_s=alert.latency_s, title=article.title[:120], **_ids(alert, article))


class _AlertIds(TypedDict):
    alert_id: str
    rule_id: str
    article_id: str
    story_id: str


def _ids(alert: Alert, article: EnrichedArticle) -> _AlertIds:
    """The ids every log line of an alert carries."""
    return {"alert_id": alert.alert_id, "rule_id": alert.rule_id, "article_id": article.article_id,
            "story_id": article.story_id}
