"""Who hears an alert: every target that wants it, each queued once in the durable delivery queue.

An alert from ``alerts`` goes to the URLs of ``NEWSMON_WEBHOOK_URLS``, to its rule's own
``webhooks`` (read from the rule directory the alerters keep in Redis, never from the public
topic) and to every active subscription to its rule. Per subscription, in this order: a silence
that matches holds it back (recorded, with the silence id, never sent later; a digest subscription
still sees it in its next digest, marked silenced); a digest subscription gets it in its next
digest instead, unless the rule is urgent (``priority: urgent``); every other subscription gets it
now. An ``alert.updated`` goes only to subscriptions with ``updates``, the same way. A first alert
goes only to subscriptions that existed when it fired: the alerter publishes its recent alerts again
on a new embedded broker (``services/alerter/republishing.py``), and a subscription made since must
not get them (a new subscription's past alerts are its ``replay_hours``, routed with ``only``).

Everything here is idempotent, so a redelivered alert, or the same alert seen by two notifier
instances, is sent once: queuing is once per (message, target), a silenced pair is recorded once,
and digests keep one entry per alert.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Literal, Protocol

from services.notifier.channels.notice import AlertNotice
from services.notifier.hooks import Digests, Silences
from services.notifier.metrics import NOTIFICATIONS
from services.notifier.notice_bodies import message_id, notice_body
from services.notifier.webhooks.queue import Target
from services.notifier.webhooks.subscriptions import Subscription
from shared.logs import log_event
from shared.rule_directory import RuleEntry

logger = logging.getLogger(__name__)


class Outbox(Protocol):
    """Where messages wait to be sent (``DeliveryQueue``)."""

    async def enqueue_message(self, message_id: str, body: str, targets: Sequence[Target | str]) -> int: ...

    async def record_silenced(self, message_id: str, target: Target, silence_id: str) -> bool: ...


class Subscribers(Protocol):
    """Who subscribed to which rules (``SubscriptionStore``)."""

    async def active_for(self, rule_id: str) -> list[Subscription]: ...


class Rules(Protocol):
    """The active rules as the alerters publish them (``RuleDirectory``)."""

    async def get(self, rule_id: str) -> RuleEntry | None: ...


@dataclass(frozen=True)
class Routing:
    """Where one notice went: queued now, held by a silence, or kept for a digest."""

    queued: int = 0
    silenced: int = 0
    digested: int = 0


@dataclass
class Dispatcher:
    """Routes alerts and their updates to their targets through the queue, silences and digests."""

    queue: Outbox
    subscribers: Subscribers
    rules: Rules
    silences: Silences
    digests: Digests
    webhook_urls: Sequence[str] = ()

    async def dispatch(self, notice: AlertNotice, only: Subscription | None = None) -> Routing:
        """Route ``notice``: a first alert to every target, an update only to subscriptions asking for updates;
        with ``only``, to that subscription alone (a new subscription's replay of recent alerts)."""
        alert = notice.alert
        rule = await self.rules.get(alert.rule_id)
        urgent = alert.priority == "urgent" or (rule is not None and rule.priority == "urgent")
        targets: list[Target | str] = []
        if notice.type == "alert.fired" and only is None:
            targets += [*self.webhook_urls, *(rule.webhooks if rule else ())]
        msg_id = message_id(notice)
        ways: Counter[str] = Counter()
        subscriptions = [only] if only is not None else await self.subscribers.active_for(alert.rule_id)
        for subscription in subscriptions:
            if notice.type == "alert.updated" and not subscription.updates:
                continue
            if notice.type == "alert.fired" and only is None and _utc(subscription.created_at) > _utc(alert.fired_at):
                continue  # made after the alert fired: a republished alert is not news to it
            in_digest = subscription.digest is not None and not urgent
            way = await self._route(notice, msg_id, subscription, in_digest)
            ways[way] += 1
            if way == "now":
                targets.append(Target(subscription.url, subscription.id))
        queued = await self.queue.enqueue_message(msg_id, notice_body(notice), targets)
        return Routing(queued, ways["silenced"], ways["digested"])

    async def _route(self, notice: AlertNotice, msg_id: str, subscription: Subscription,
                     in_digest: bool) -> Literal["now", "silenced", "digested", "kept"]:
        """How ``notice`` reaches one subscription: now, held by a silence, or kept for its digest."""
        alert = notice.alert
        silence = await self.silences.silencing(alert, subscription.id)
        if silence is not None:
            if in_digest:
                await self.digests.add(subscription, replace(notice, silence_id=silence.id))
            if not await self.queue.record_silenced(msg_id, Target(subscription.url, subscription.id), silence.id):
                return "kept"  # recorded before: a redelivery
            NOTIFICATIONS.labels(subscription.format, "silenced").inc()
            log_event(logger, "alert.silenced", alert_id=alert.alert_id, subscription_id=subscription.id,
                      silence_id=silence.id, type=notice.type)
            return "silenced"
        if in_digest:
            await self.digests.add(subscription, notice)
            NOTIFICATIONS.labels(subscription.format, "digested").inc()
            return "digested"
        return "now"


def _utc(moment: datetime) -> datetime:
    """``moment`` comparable with any other: a time without a zone is UTC, as on the wire."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
