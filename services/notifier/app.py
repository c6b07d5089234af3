"""The notifier service: alerts -> the people and systems that subscribed, in their format, once each.

``create_service`` builds the parts (``bootstrap``), then declares the topic, the agent, the
delivery, digest and silence-gauge tasks (through ``shared.background``, so none can take the
app down), the subscription and silence APIs and the one-click unsubscribe links. Alerts and story
copies go through ``updates.StoryUpdates``, which routes them with ``dispatch.Dispatcher``; delivery
is ``webhooks.delivery``.
"""

from __future__ import annotations

import asyncio

import faust

from services.notifier.api import register_routes
from services.notifier.bootstrap import bootstrap
from services.notifier.metrics import INPUT_WAIT
from services.notifier.silence_api import register_silence_routes
from services.notifier.unsubscribe import register_unsubscribe_routes
from shared import topics
from shared.background import every, keep_running
from shared.http_api import Endpoint
from shared.metrics import seconds_since
from shared.schemas import Alert, DuplicateArticle
from shared.settings import Settings
from shared.stream_app import Stage, create_app, raw_topic


def create_service(settings: Settings) -> faust.App:
    """The notifier's faust app, wired from ``settings``."""
    parts = bootstrap(settings)
    app = create_app("notifier", settings, readiness=[parts.redis_reachable])
    alerts = raw_topic(app, topics.ALERTS)
    copies = raw_topic(app, topics.ARTICLES_DUPLICATES)
    alert_stage: Stage[Alert] = Stage(app, "notifier", topics.ALERTS, Alert)
    copy_stage: Stage[DuplicateArticle] = Stage(app, "notifier", topics.ARTICLES_DUPLICATES, DuplicateArticle)
    endpoint = Endpoint(parts.api_tokens, parts.redis_reachable)
    register_routes(app, parts.subscription_api, endpoint)
    register_silence_routes(app, parts.silence_api, endpoint)
    register_unsubscribe_routes(app, parts.unsubscribe_api, parts.redis_reachable)

    @app.agent(alerts, name="notifier")
    async def notifier_agent(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            INPUT_WAIT.observe(seconds_since(event.message.timestamp))
            await alert_stage.run(event.key, event.value, parts.updates.on_alert)

    @app.agent(copies, name="notifier_story_copies")
    async def story_copies_agent(stream: faust.StreamT[bytes]) -> None:
        """Copies of stories (dedupe's duplicates): what story updates count."""
        async for event in stream.events():
            await copy_stage.run(event.key, event.value, parts.updates.on_copy)

    @app.task
    async def deliver() -> None:
        """Delivery runs beside routing, from a durable queue, and never blocks it."""
        await keep_running(lambda: parts.deliveries.run(asyncio.Event()), service="notifier", job="delivery")

    @app.task
    async def send_digests() -> None:
        """Every NEWSMON_DIGEST_POLL_S: queue the digests whose period ended (one instance claims each)."""
        await every(settings.digest_poll_s, parts.digests.send_due, service="notifier", job="digests")

    @app.task
    async def count_silences() -> None:
        """Keep the active-silences gauge true as silences expire on their own."""
        await every(settings.digest_poll_s, parts.count_silences, service="notifier", job="silences_gauge")

    return app
