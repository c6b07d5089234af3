"""The alerter service: articles.enriched -> alerts, signed webhook delivery beside it, and the API.

``create_service`` builds the parts (``bootstrap``), then declares the topics, the agent, the
rule-reload timer and the delivery task (both through ``shared.background``, so neither can take
the app down). The firing sequence itself is ``firing.AlertFiring``.
"""

from __future__ import annotations

import asyncio

import faust

from services.alerter.api import register_routes
from services.alerter.bootstrap import bootstrap
from services.alerter.firing import AlertFiring, AlertTargets
from services.alerter.metrics import INPUT_WAIT
from shared import topics
from shared.background import every, keep_running
from shared.metrics import seconds_since
from shared.schemas import Alert, EnrichedArticle
from shared.settings import Settings
from shared.stream_app import Stage, create_app, publish, raw_topic


def create_service(settings: Settings) -> faust.App:
    """The alerter's faust app, wired from ``settings``."""
    parts = bootstrap(settings)
    app = create_app("alerter", settings, readiness=[parts.redis_reachable])
    enriched_articles = raw_topic(app, topics.ARTICLES_ENRICHED)
    alerts = raw_topic(app, topics.ALERTS, produced_by="alerter")
    stage: Stage[EnrichedArticle] = Stage(app, "alerter", topics.ARTICLES_ENRICHED, EnrichedArticle)

    async def publish_alert(alert: Alert) -> None:
        await publish(alerts, "alerter", alert.alert_id, alert)

    firing = AlertFiring(parts.rulebook, parts.alert_log, publish_alert, parts.deliveries,
                         AlertTargets(parts.subscriptions, settings.webhook_urls))
    register_routes(app, parts.subscription_api, parts.rule_api, parts.redis_reachable)

    @app.agent(enriched_articles, name="alerter")
    async def alerter_agent(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            INPUT_WAIT.observe(seconds_since(event.message.timestamp))
            await stage.run(event.key, event.value, firing.on_article)

    @app.task
    async def reload_rules() -> None:
        """Every few seconds; a failure (Redis away) is logged and retried, never fatal to the app."""
        await every(settings.rules_reload_s, parts.rulebook.refresh, service="alerter", job="rules_reload")

    @app.task
    async def deliver_webhooks() -> None:
        """Webhook delivery runs beside rule evaluation, from a durable queue, and never blocks it."""
        await keep_running(lambda: parts.deliveries.run(asyncio.Event()), service="alerter", job="webhook_delivery")

    return app
