"""The notifier service: alerts -> the people and systems that subscribed, in their format, once each.

``create_service`` builds the parts (``bootstrap``), then declares the topic, the agent, the
delivery task (through ``shared.background``, so it cannot take the app down) and the
subscription API. Routing is ``dispatch.Dispatcher``; delivery is ``webhooks.delivery``.
"""

from __future__ import annotations

import asyncio

import faust

from services.notifier.api import register_routes
from services.notifier.bootstrap import bootstrap
from services.notifier.metrics import INPUT_WAIT
from shared import topics
from shared.background import keep_running
from shared.http_api import Endpoint
from shared.metrics import seconds_since
from shared.schemas import Alert
from shared.settings import Settings
from shared.stream_app import Stage, create_app, raw_topic


def create_service(settings: Settings) -> faust.App:
    """The notifier's faust app, wired from ``settings``."""
    parts = bootstrap(settings)
    app = create_app("notifier", settings, readiness=[parts.redis_reachable])
    alerts = raw_topic(app, topics.ALERTS)
    alert_stage: Stage[Alert] = Stage(app, "notifier", topics.ALERTS, Alert)
    register_routes(app, parts.subscription_api, Endpoint(parts.api_tokens, parts.redis_reachable))

    @app.agent(alerts, name="notifier")
    async def notifier_agent(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            INPUT_WAIT.observe(seconds_since(event.message.timestamp))
            await alert_stage.run(event.key, event.value, parts.dispatcher.on_alert)

    @app.task
    async def deliver() -> None:
        """Delivery runs beside routing, from a durable queue, and never blocks it."""
        await keep_running(lambda: parts.deliveries.run(asyncio.Event()), service="notifier", job="delivery")

    return app
