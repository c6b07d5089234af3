"""Everything the notifier needs, built once from the settings when the service starts.

Nothing here runs at import: ``app.create_service`` calls ``bootstrap``, so importing the app
module opens no connection and reads no settings, and tests build the same parts around fakes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis

from services.notifier.alert_history import alerts_since
from services.notifier.api import SubscriptionAPI
from services.notifier.channels.notice import DigestNotice
from services.notifier.channels.smtp import smtp_settings
from services.notifier.digest_store import DigestStore
from services.notifier.digests import Digests
from services.notifier.dispatch import Dispatcher
from services.notifier.metrics import ACTIVE_SILENCES, DIGESTS
from services.notifier.notice_bodies import notice_body
from services.notifier.silence_api import SilenceAPI
from services.notifier.silence_store import SilenceStore
from services.notifier.stories.growth import UpdatePolicy
from services.notifier.stories.store import StoryStore
from services.notifier.stories.updates import StoryUpdates
from services.notifier.unsubscribe import UnsubscribeAPI
from services.notifier.webhooks.delivery import WebhookDelivery
from services.notifier.webhooks.queue import Target
from services.notifier.webhooks.subscriptions import Subscription, SubscriptionStore
from services.notifier.webhooks.url_safety import webhook_client
from shared.http_api import TokenCheck
from shared.readiness import redis_answers
from shared.redis_client import connect
from shared.rule_directory import RuleDirectory
from shared.settings import Settings


class NotifierConfigError(ValueError):
    """A setting the notifier cannot start with; the message names the variable."""


@dataclass(frozen=True)
class NotifierDependencies:
    """The notifier's long-lived parts (their connections close with the process)."""

    redis: Redis
    subscriptions: SubscriptionStore
    deliveries: WebhookDelivery
    updates: StoryUpdates
    digests: Digests
    silences: SilenceStore
    subscription_api: SubscriptionAPI
    silence_api: SilenceAPI
    unsubscribe_api: UnsubscribeAPI
    api_tokens: TokenCheck

    async def redis_reachable(self) -> bool:
        """Readiness check: Redis answers a PING (else ``NotReady`` says where and why)."""
        return await redis_answers(self.redis)

    async def count_silences(self) -> None:
        """Set the active-silences gauge (after each change, and on a timer for those that expire)."""
        await count_silences(self.silences)


async def count_silences(silences: SilenceStore) -> None:
    """Set the active-silences gauge from the store."""
    ACTIVE_SILENCES.set(len(await silences.active()))


def bootstrap(settings: Settings) -> NotifierDependencies:
    """Build the notifier's parts; unusable SMTP settings raise ``NotifierConfigError`` naming the variable."""
    try:
        smtp = smtp_settings(settings)
    except ValueError as error:
        raise NotifierConfigError(str(error)) from None
    redis = connect(settings)
    subscriptions = SubscriptionStore(redis)
    directory = RuleDirectory(redis)
    webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    deliveries = WebhookDelivery(
        redis,
        webhook_client(settings.webhook_allow_private),
        secret=webhook_secret,
        allow_private=settings.webhook_allow_private,
        max_attempts=settings.webhook_max_attempts,
        backoff_s=settings.webhook_backoff_s,
        horizon_s=settings.webhook_retry_horizon_s,
        subscriptions=subscriptions,
        attempt_deadline_s=settings.webhook_attempt_deadline_s,
        per_destination=settings.webhook_per_destination_concurrency,
        smtp=smtp,
        public_url=settings.public_url,
    )
    silences = SilenceStore(redis)
    digests = Digests(DigestStore(redis), subscriptions.get, _digest_delivery(deliveries))

    async def rule_ids() -> list[str]:
        """The rules the alerters run now, as they publish them in the rule directory."""
        return list(await directory.entries())

    dispatcher = Dispatcher(deliveries, subscriptions, directory, silences, digests,
                            webhook_urls=tuple(settings.webhook_urls))
    subscription_api = SubscriptionAPI(
        store=subscriptions, queue=deliveries,
        route=lambda notice, subscription: dispatcher.dispatch(notice, only=subscription),
        alerts_since=lambda since: alerts_since(settings, since),
        rule_ids=rule_ids, allow_private=settings.webhook_allow_private, settings_urls=settings.webhook_urls,
        settings_secret=webhook_secret, email_enabled=smtp is not None,
        digest_min_period_s=settings.digest_min_period_s,
    )
    policy = UpdatePolicy(thresholds=tuple(sorted(set(settings.update_outlet_thresholds))),
                          min_interval_s=settings.update_min_interval_s,
                          watched_labels=frozenset(settings.update_entity_labels))
    return NotifierDependencies(
        redis=redis, subscriptions=subscriptions, deliveries=deliveries,
        updates=StoryUpdates(StoryStore(redis), dispatcher, policy), digests=digests,
        silences=silences, subscription_api=subscription_api,
        silence_api=SilenceAPI(silences, lambda: count_silences(silences)),
        unsubscribe_api=UnsubscribeAPI(subscriptions.get, subscriptions.delete),
        api_tokens=TokenCheck.from_settings(settings),
    )


def _digest_delivery(deliveries: WebhookDelivery) -> Callable[[Subscription, DigestNotice, str], Awaitable[None]]:
    """How a due digest reaches its subscriber: one message on the durable queue, once per period."""

    async def deliver(subscription: Subscription, notice: DigestNotice, message_id: str) -> None:
        if await deliveries.enqueue_message(message_id, notice_body(notice), [Target(subscription.url,
                                                                                    subscription.id)]):
            DIGESTS.labels(subscription.format).inc()

    return deliver
