"""The alerter service: articles.enriched -> alerts, and the rule API.

``create_service`` builds the parts (``bootstrap``), then declares the topics, the agent and the
rule-reload timer (through ``shared.background``, so a failure cannot take the app down). The
firing sequence itself is ``firing.AlertFiring``; each published alert is also kept for the
republish window, and published again at start on a new embedded broker (``republishing.py``).
Who hears an alert is the notifier's job.
"""

from __future__ import annotations

import faust

from services.alerter.bootstrap import bootstrap
from services.alerter.firing import AlertFiring
from services.alerter.metrics import INPUT_WAIT
from services.alerter.republishing import republish_if_new_broker
from services.alerter.rule_api import register_rule_routes
from shared import topics
from shared.background import every
from shared.failure_policy import retry_transient
from shared.http_api import Endpoint
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
        """Publish, then keep the body for the republish window (before the alert is marked published)."""
        await publish(alerts, "alerter", alert.alert_id, alert)
        await retry_transient(lambda: parts.recent_alerts.add(alert), "alerts.recent", alert_id=alert.alert_id)

    firing = AlertFiring(parts.rulebook, parts.alert_log, publish_alert)
    register_rule_routes(app, parts.rule_api, Endpoint(parts.api_tokens, parts.redis_reachable))

    @app.agent(enriched_articles, name="alerter")
    async def alerter_agent(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            INPUT_WAIT.observe(seconds_since(event.message.timestamp))
            await stage.run(event.key, event.value, firing.on_article)

    @app.task
    async def republish_on_new_broker() -> None:
        """Once at start: a new, empty embedded broker gets the alerts of the window again."""
        await republish_if_new_broker(parts.redis, settings.broker_epoch, parts.recent_alerts,
                                      lambda alert: publish(alerts, "alerter", alert.alert_id, alert))

    @app.task
    async def reload_rules() -> None:
        """Every few seconds; a failure (Redis away) is logged and retried, never fatal to the app."""
        await every(settings.rules_reload_s, parts.rulebook.refresh, service="alerter", job="rules_reload")

    return app
