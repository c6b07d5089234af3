"""Who hears an alert: every target that wants it, each queued once in the durable delivery queue.

An alert from ``alerts`` goes to the URLs of ``NEWSMON_WEBHOOK_URLS``, to its rule's own
``webhooks`` (read from the rule directory the alerters keep in Redis, never from the public
topic) and to every active subscription to its rule. Per subscription, in this order: a silence
that matches holds it back (recorded, with the silence id, never sent later; a digest subscription
still sees it in its next digest, marked silenced); a digest subscription gets it in its next
digest instead, unless the rule is urgent (``priority: urgent``); every other subscription gets it
now. An ``alert.updated`` goes only to subscriptions with ``updates``, the same way.

Everything here is idempotent, so a redelivered alert, or the same alert seen by two notifier
instances, is sent once: queuing is once per (message, target), a silenced pair is recorded once,
and digests keep one entry per alert.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

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

    async def dispatch(self, notice: AlertNotice) -> Routing:
        """Route ``notice``: a first alert to every target, an update only to subscriptions asking for updates."""
        alert = notice.alert
        rule = await self.rules.get(alert.rule_id)
        urgent = alert.priority == "urgent" or (rule is not None and rule.priority == "urgent")
        targets: list[Target | str] = []
        if notice.type == "alert.fired":
            targets += [*self.webhook_urls, *(rule.webhooks if rule else ())]
        msg_id = message_id(notice)
        silenced = digested = 0
        for subscription in await self.subscribers.active_for(alert.rule_id):
            if notice.type == "alert.updated" and not subscription.updates:
                continue
            target = Target(subscription.url, subscription.id)
            in_digest = subscription.digest is not None and not urgent
            silence = await self.silences.silencing(alert, subscription.id)
            if silence is not None:
                if await self.queue.record_silenced(msg_id, target, silence.id):
                    silenced += 1
                    NOTIFICATIONS.labels(subscription.format, "silenced").inc()
                    log_event(logger, "alert.silenced", alert_id=alert.alert_id, subscription_id=subscription.id,
                              silence_id=silence.id, type=notice.type)
                if in_digest:
                    await self.digests.add(subscription, replace(notice, silence_id=silence.id))
            elif in_digest:
                await self.digests.add(subscription, notice)
                digested += 1
                NOTIFICATIONS.labels(subscription.format, "digested").inc()
            else:
                targets.append(target)
        queued = await self.queue.enqueue_message(msg_id, notice_body(notice), targets)
        return Routing(queued, silenced, digested)
