"""The firing sequence of the alerter: what keeps every alert sent once, and never lost.

For each rule that fires on an enriched article, in this order:

1. ask the alert log whether the alert (rule id + story id) still needs publishing, and whether
   the rule's cooldown lets it through (else it is recorded suppressed, and never sent);
2. publish the alert and wait for the broker's acknowledgement;
3. queue its webhooks, one item per target (idempotent per alert and target);
4. mark it published.

A crash between 2 and 4 publishes the alert again on redelivery with the same ``alert_id`` (and
the same ``webhook-id``), which consumers and receivers dedupe on; nothing is ever skipped.
Everything the sequence touches is a port, so it runs the same on Redis and Kafka in the service
and on in-memory twins in the unit tests.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypedDict

from services.alerter.alert_content import build_alert
from services.alerter.alert_log import AlertLog
from services.alerter.metrics import ALERT_LATENCY, ALERTS_FIRED, ALERTS_SUPPRESSED
from services.alerter.rule_engine.matching import CompiledRule, RuleMatch, evaluate
from services.alerter.webhooks.queue import Target
from services.alerter.webhooks.subscriptions import Subscription
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


class Outbox(Protocol):
    """Where an alert's webhooks wait to be sent (``DeliveryQueue``)."""

    async def enqueue(self, alert: Alert, targets: Sequence[Target | str]) -> int: ...


class Subscribers(Protocol):
    """Who subscribed to which rules (``SubscriptionStore``)."""

    async def active_for(self, rule_id: str) -> list[Subscription]: ...


@dataclass(frozen=True)
class AlertTargets:
    """Every URL an alert goes to: the configured ones, the rule's own, and the subscribers to its rule."""

    subscribers: Subscribers
    webhook_urls: Sequence[str] = field(default_factory=list)

    async def __call__(self, match: RuleMatch) -> list[Target | str]:
        targets: list[Target | str] = [*self.webhook_urls, *match.rule.webhooks]
        targets += [Target(sub.url, sub.id) for sub in await self.subscribers.active_for(match.rule.id)]
        return targets


class AlertFiring:
    """Turns an enriched article into published alerts and queued webhooks, each once."""

    def __init__(self, rules: LiveRules, log: AlertLog, publish: PublishAlert, outbox: Outbox,
                 targets: Callable[[RuleMatch], Awaitable[list[Target | str]]]) -> None:
        self.rules = rules
        self.log = log
        self.publish = publish
        self.outbox = outbox
        self.targets = targets

    async def on_article(self, article: EnrichedArticle) -> list[Alert]:
        """Fire every rule that matches ``article``; the alerts published now (not those sent before)."""
        if not self.rules.loaded:  # after a restart, the API rules count from the first article on
            await self.rules.refresh()
        fired = []
        for match in evaluate(self.rules.rules, article):
            alert = build_alert(match, article)
            if await self._may_fire(alert, match, article):
                await self._fire(alert, match, article)
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

    async def _fire(self, alert: Alert, match: RuleMatch, article: EnrichedArticle) -> None:
        # Who gets the alert is looked up while the broker stores it: the lookup's round trips
        # cost no time of their own, and nothing is queued before the broker has acknowledged.
        lookup = asyncio.ensure_future(self.targets(match))
        try:
            await self.publish(alert)
        except BaseException:
            lookup.cancel()
            raise
        # Queued before the alert counts as published: a crash in between sends it again (receivers
        # dedupe on webhook-id), never loses its webhooks; queuing is idempotent per target.
        await self.outbox.enqueue(alert, await lookup)
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
