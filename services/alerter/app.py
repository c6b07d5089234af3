"""The alerter service: articles.enriched -> alerts, signed webhook delivery beside it, and the subscription API."""

from __future__ import annotations

import asyncio
import logging

import httpx

from services.alerter.alert_content import build_alert
from services.alerter.alert_history import alerts_since
from services.alerter.alert_log import claim_cooldown, mark_published, mark_suppressed, needs_publishing
from services.alerter.api import SubscriptionAPI, register_routes
from services.alerter.webhooks.delivery import WebhookDelivery
from services.alerter.webhooks.queue import Target
from services.alerter.rule_engine.matching import RuleMatch, evaluate
from services.alerter.metrics import ALERT_LATENCY, ALERTS_FIRED, ALERTS_SUPPRESSED
from services.alerter.rule_api import RuleAPI
from services.alerter.rule_engine.rule_store import RuleStore
from services.alerter.rule_engine.rulebook import RuleBook
from services.alerter.webhooks.subscriptions import SubscriptionStore
from shared import topics
from shared.logs import log_event
from shared.redis_client import connect
from shared.schemas import Alert, EnrichedArticle
from shared.settings import get_settings
from shared.stream_app import Stage, create_app, publish, raw_topic

logger = logging.getLogger(__name__)

settings = get_settings()
redis = connect(settings)
rule_store = RuleStore(redis)
rulebook = RuleBook(settings.rules_path, rule_store)
subscriptions = SubscriptionStore(redis)


async def redis_reachable() -> bool:
    return bool(await redis.ping())


app = create_app("alerter", settings, readiness=[redis_reachable])
enriched_articles = raw_topic(app, topics.ARTICLES_ENRICHED)
alerts = raw_topic(app, topics.ALERTS, produced_by="alerter")
stage: Stage[EnrichedArticle] = Stage(app, "alerter", topics.ARTICLES_ENRICHED, EnrichedArticle)
webhook_secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
deliveries = WebhookDelivery(
    redis,
    httpx.AsyncClient(follow_redirects=False),
    secret=webhook_secret,
    allow_private=settings.webhook_allow_private,
    max_attempts=settings.webhook_max_attempts,
    backoff_s=settings.webhook_backoff_s,
    horizon_s=settings.webhook_retry_horizon_s,
    subscriptions=subscriptions,
)


async def active_rule_ids() -> list[str]:
    """Current on this instance even when another instance just added the rule through the API."""
    await rulebook.refresh()
    return rulebook.rule_ids()


subscription_api = SubscriptionAPI(
    token=settings.api_token.get_secret_value() if settings.api_token else None,
    store=subscriptions, queue=deliveries, alerts_since=lambda since: alerts_since(settings, since),
    rule_ids=active_rule_ids,
    allow_private=settings.webhook_allow_private, settings_urls=settings.webhook_urls, settings_secret=webhook_secret,
)
register_routes(app, subscription_api, RuleAPI(rulebook, rule_store))


async def may_fire(alert: Alert, match: RuleMatch, article: EnrichedArticle) -> bool:
    """True unless this alert was already sent, or the rule's cooldown holds it back (then never sent)."""
    ids = {"alert_id": alert.alert_id, "rule_id": alert.rule_id, "article_id": article.article_id,
           "story_id": article.story_id}
    if not await needs_publishing(redis, alert.alert_id, settings.alert_state_ttl_seconds):
        log_event(logger, "alert.already_sent", **ids)
        return False
    cooldown = match.rule.cooldown
    if cooldown is not None and not await claim_cooldown(redis, alert.rule_id, alert.alert_id, cooldown):
        await mark_suppressed(redis, alert.alert_id, settings.alert_state_ttl_seconds)
        ALERTS_SUPPRESSED.labels(alert.rule_id).inc()
        log_event(logger, "alert.suppressed_by_cooldown", cooldown_s=cooldown, **ids)
        return False
    return True


async def raise_alerts(article: EnrichedArticle) -> None:
    """Publish each alert once per (rule, story) and queue its webhooks, one per target."""
    if not rulebook.loaded:  # after a restart, the API rules count from the first article on
        await rulebook.refresh()
    for match in evaluate(rulebook.rules, article):
        alert = build_alert(match, article)
        if not await may_fire(alert, match, article):
            continue
        await publish(alerts, "alerter", alert.alert_id, alert)
        # Queued before the alert counts as published: a crash in between sends it again (receivers
        # dedupe on webhook-id), never loses its webhooks; queuing is idempotent per target.
        targets: list[Target | str] = [*settings.webhook_urls, *match.rule.webhooks]
        targets += [Target(sub.url, sub.id) for sub in await subscriptions.active_for(alert.rule_id)]
        await deliveries.enqueue(alert, targets)
        await mark_published(redis, alert.alert_id, settings.alert_state_ttl_seconds)
        ALERTS_FIRED.labels(alert.rule_id).inc()
        if alert.latency_s is not None:
            ALERT_LATENCY.observe(alert.latency_s)
        log_event(logger, "alert.fired", alert_id=alert.alert_id, rule_id=alert.rule_id, latency_s=alert.latency_s,
                  article_id=article.article_id, story_id=article.story_id, title=article.title[:120])


@app.agent(enriched_articles)
async def alerter_agent(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        await stage.run(event.key, event.value, raise_alerts)


@app.timer(settings.rules_reload_seconds)
async def reload_rules() -> None:
    await rulebook.refresh()


@app.task
async def deliver_webhooks() -> None:
    """Webhook delivery runs beside rule evaluation, from a durable queue, and never blocks it."""
    await deliveries.run(asyncio.Event())
