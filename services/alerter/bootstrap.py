"""Everything the alerter needs, built once from the settings when the service starts.

Nothing here runs at import: ``app.create_service`` calls ``bootstrap``, so importing the app
module opens no connection and reads no settings, and tests build the same parts around fakes.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from services.alerter.alert_history import alerts_since
from services.alerter.alert_log import RedisAlertLog
from services.alerter.api import SubscriptionAPI
from services.alerter.rule_api import RuleAPI
from services.alerter.rule_engine.aliases import configured_aliases
from services.alerter.rule_engine.events.sentence_parse import configured_parser
from services.alerter.rule_engine.rule_store import RuleStore
from services.alerter.rule_engine.rulebook import RuleBook
from services.alerter.webhooks.delivery import WebhookDelivery
from services.alerter.webhooks.subscriptions import SubscriptionStore
from services.alerter.webhooks.url_safety import webhook_client
from shared.readiness import redis_answers
from shared.redis_client import connect
from shared.settings import Settings


@dataclass(frozen=True)
class AlerterDependencies:
    """The alerter's long-lived parts (their connections close with the process)."""

    redis: Redis
    rulebook: RuleBook
    alert_log: RedisAlertLog
    subscriptions: SubscriptionStore
    deliveries: WebhookDelivery
    subscription_api: SubscriptionAPI
    rule_api: RuleAPI

    async def redis_reachable(self) -> bool:
        """Readiness check: Redis answers a PING (else ``NotReady`` says where and why)."""
        return await redis_answers(self.redis)


def bootstrap(settings: Settings) -> AlerterDependencies:
    """Build the alerter's parts; a bad rule file raises ``RuleFileError`` naming file, rule and field,
    and a bad alias file ``AliasFileError``."""
    configured_aliases()
    redis = connect(settings)
    rule_store = RuleStore(redis)
    rulebook = RuleBook(settings.rules_path, rule_store)
    if any(compiled.event_nodes for compiled in rulebook.rules):
        configured_parser().warm_up()  # load the parser now, not when the first candidate sentence arrives
    subscriptions = SubscriptionStore(redis)
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
        """Current on this instance even when another instance just added the rule through the API."""
        await rulebook.refresh()
        return rulebook.rule_ids()

    subscription_api = SubscriptionAPI(
        token=settings.api_token.get_secret_value() if settings.api_token else None,
        store=subscriptions, queue=deliveries, alerts_since=lambda since: alerts_since(settings, since),
        rule_ids=rule_ids, allow_private=settings.webhook_allow_private, settings_urls=settings.webhook_urls,
        settings_secret=webhook_secret,
    )
    return AlerterDependencies(
        redis=redis, rulebook=rulebook, alert_log=RedisAlertLog(redis, settings.alert_state_ttl_s),
        subscriptions=subscriptions, deliveries=deliveries, subscription_api=subscription_api,
        rule_api=RuleAPI(rulebook, rule_store),
    )
