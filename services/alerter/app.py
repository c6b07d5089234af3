"""The alerter service: articles.enriched -> alerts, plus signed webhook delivery beside it."""

from __future__ import annotations

import asyncio
import logging

import httpx
from prometheus_client import Counter, Histogram

from newsmon.services.alerter.alert_log import mark_published, needs_publishing
from newsmon.services.alerter.delivery import WebhookDelivery
from newsmon.services.alerter.matching import RuleMatch, evaluate
from newsmon.services.alerter.rulebook import RuleBook
from newsmon.shared import topics
from newsmon.shared.article_ids import alert_id
from newsmon.shared.logs import log_event
from newsmon.shared.redis_client import connect
from newsmon.shared.schemas import Alert, EnrichedArticle, utcnow
from newsmon.shared.settings import get_settings
from newsmon.shared.stream_app import Stage, create_app, publish, raw_topic

ALERTS_FIRED = Counter("newsmon_alerts_total", "Alerts published, by rule.", ["rule"])
ALERT_LATENCY = Histogram(
    "newsmon_alert_latency_seconds", "From fetch to alert, per alert.",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600),
)
logger = logging.getLogger(__name__)

settings = get_settings()
redis = connect(settings)
rulebook = RuleBook(settings.rules_path)


async def redis_reachable() -> bool:
    return bool(await redis.ping())


app = create_app("alerter", settings, readiness=[redis_reachable])
enriched_articles = raw_topic(app, topics.ARTICLES_ENRICHED)
alerts = raw_topic(app, topics.ALERTS, produced_by="alerter")
stage: Stage[EnrichedArticle] = Stage(app, "alerter", topics.ARTICLES_ENRICHED, EnrichedArticle)
deliveries = WebhookDelivery(
    redis,
    httpx.AsyncClient(follow_redirects=False),
    secret=settings.webhook_secret.get_secret_value() if settings.webhook_secret else None,
    allow_private=settings.webhook_allow_private,
    max_attempts=settings.webhook_max_attempts,
    backoff_s=settings.webhook_backoff_s,
)


def build_alert(match: RuleMatch, article: EnrichedArticle) -> Alert:
    """The alert for one rule on one article, with the entity mentions of the matched sentences."""
    sentence_starts = {sentence.start for sentence in match.sentences}
    matched_indexes = {i for i, sentence in enumerate(article.sentences) if sentence.start in sentence_starts}
    return Alert(
        alert_id=alert_id(match.rule.id, article.story_id),
        rule_id=match.rule.id,
        rule_name=match.rule.name,
        article_id=article.article_id,
        story_id=article.story_id,
        url=article.url,
        title=article.title,
        source=article.source,
        published_at=article.published_at,
        sentences=match.sentences,
        mentions=[mention for mention in article.mentions if mention.sentence in matched_indexes],
    )


async def raise_alerts(article: EnrichedArticle) -> None:
    """Publish each alert once per (rule, story) and queue its webhooks."""
    for match in evaluate(rulebook.rules, article):
        alert = build_alert(match, article)
        if not await needs_publishing(redis, alert.alert_id, settings.alert_state_ttl_seconds):
            log_event(logger, "alert.already_sent", alert_id=alert.alert_id, rule_id=alert.rule_id,
                      article_id=article.article_id, story_id=article.story_id)
            continue
        await publish(alerts, "alerter", alert.alert_id, alert)
        await mark_published(redis, alert.alert_id, settings.alert_state_ttl_seconds)
        ALERTS_FIRED.labels(alert.rule_id).inc()
        ALERT_LATENCY.observe((utcnow() - article.fetched_at).total_seconds())
        log_event(logger, "alert.fired", alert_id=alert.alert_id, rule_id=alert.rule_id,
                  article_id=article.article_id, story_id=article.story_id, title=article.title[:120])
        urls = [*settings.webhook_urls, *match.rule.webhooks]
        if urls:
            await deliveries.enqueue(alert, urls)


@app.agent(enriched_articles)
async def alerter_agent(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        await stage.run(event.key, event.value, raise_alerts)


@app.timer(settings.rules_reload_seconds)
async def reload_rules() -> None:
    rulebook.reload_if_changed()


@app.task
async def deliver_webhooks() -> None:
    """Webhook delivery runs beside rule evaluation, from a durable queue, and never blocks it."""
    await deliveries.run(asyncio.Event())
