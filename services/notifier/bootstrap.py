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
from services.notifier.digest_store import DigestStore
from services.notifier.digests import Digests
from services.notifier.dispatch import Dispatcher
from services.notifier.metrics import DIGESTS, SILENCES_ACTIVE
from services.notifier.notice_bodies import message_id, notice_body
from services.notifier.silence_api import SilenceAPI
from services.notifier.silence_store import SilenceStore
from services.notifier.webhooks.delivery import WebhookDelivery
from services.notifier.webhooks.queue import Target
from services.notifier.webhooks.subscriptions import Subscription, SubscriptionStore
from services.notifier.webhooks.url_safety import webhook_client
from shared.http_api import TokenCheck
from shared.readiness import redis_answers
from shared.redis_client import connect
from shared.rule_directory import RuleDirectory
from shared.settings import Settings


@dataclass(frozen=True)
class NotifierDependencies:
    """The notifier's long-lived parts (their connections close with the process)."""

    redis: Redis
    subscriptions: SubscriptionStore
    deliveries: WebhookDelivery
    dispatcher: Dispatcher
    subscription_api: SubscriptionAPI
    api_tokens: TokenCheck
    silence_api: SilenceAPI
    count_silences: Callable[[], Awaitable[None]]
    digests: Digests

    async def redis_reachable(self) -> bool:
        """Readiness check: Redis answers a PING (else ``NotReady`` says where and why)."""
        return await redis_answers(self.redis)


def bootstrap(settings: Settings) -> NotifierDependencies:
    """Build the notifier's parts."""
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
    )

    async def rule_ids() -> list[str]:
        """The rules the alerters run now, as they publish them in the rule directory."""
        return list(await directory.entries())

    subscription_api = SubscriptionAPI(
        store=subscriptions, queue=deliveries, alerts_since=lambda since: alerts_since(settings, since),
        rule_ids=rule_ids, allow_private=settings.webhook_allow_private, settings_urls=settings.webhook_urls,
        settings_secret=webhook_secret, digest_min_period_s=settings.digest_min_period_s,
    )

    async def queue_digest(subscription: Subscription, notice: DigestNotice) -> None:
        """A digest is one message on the durable queue, under an id that names its period."""
        target = Target(subscription.url, subscription.id)
        if await deliveries.enqueue_message(message_id(notice), notice_body(notice), [target]):
            DIGESTS.labels(subscription.format).inc()

    silences = SilenceStore(redis)

    async def count_silences() -> None:
        """Set the active-silences gauge; silences end by expiring, so a timer calls this too."""
        SILENCES_ACTIVE.set(len(await silences.active()))

    digests = Digests(DigestStore(redis), subscriptions.get, queue_digest)
    dispatcher = Dispatcher(deliveries, subscriptions, directory, webhook_urls=tuple(settings.webhook_urls),
                            silences=silences, digests=digests)
    return NotifierDependencies(
        redis=redis, subscriptions=subscriptions, deliveries=deliveries, dispatcher=dispatcher,
        subscription_api=subscription_api,
        api_tokens=TokenCheck(settings.api_token.get_secret_value() if settings.api_token else None),
        silence_api=SilenceAPI(silences, changed=count_silences), count_silences=count_silences, digests=digests,
    )
