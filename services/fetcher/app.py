"""The fetcher service: polls every configured source on its own interval, publishes new articles.

``create_service`` builds the parts (``bootstrap``: invalid sources fail there, at start, with
the file, the source and the field) and declares the output topic and the polling task. Files and
folders can also be published on demand by ``newsmon replay`` through the same readers.
"""

from __future__ import annotations

import asyncio
from functools import partial

import faust

from services.fetcher.bootstrap import FetcherDependencies, bootstrap
from services.fetcher.files import PublishedFiles
from services.fetcher.metrics import PUBLISH_LATENCY
from services.fetcher.polling import Send, poll, source_label
from services.fetcher.published import SourceFreshness
from services.fetcher.sources import Source
from shared import topics
from shared.background import keep_running
from shared.metrics import seconds_since
from shared.schemas import RawArticle
from shared.settings import Settings
from shared.stream_app import create_app, publish, raw_topic


def create_service(settings: Settings) -> faust.App:
    """The fetcher's faust app, wired from ``settings``."""
    parts = bootstrap(settings)
    app = create_app("fetcher", settings, readiness=[parts.redis_reachable])
    # It consumes nothing: no consumer group, so no heartbeats, fetches or commit timers while the news is quiet.
    app.producer_only = True
    raw_articles = raw_topic(app, topics.ARTICLES_RAW, produced_by="fetcher")

    async def send(article: RawArticle) -> None:
        """Publish one article and wait for the broker's acknowledgement."""
        await publish(raw_articles, "fetcher", article.article_id, article)
        PUBLISH_LATENCY.observe(seconds_since(article.fetched_at.timestamp()))

    @app.task
    async def poll_all_sources() -> None:
        """Each source on its own interval; a slow or failing source never delays the others."""
        await asyncio.gather(*(
            keep_running(partial(poll_forever, parts, source, send, settings.fetcher_memory_ttl_s),
                         service="fetcher", job="poll")
            for source in parts.sources))

    return app


async def poll_forever(parts: FetcherDependencies, source: Source, send: Send, ttl_s: int) -> None:
    """Poll one source until the service stops; a failed poll is logged and counted by ``poll``, never fatal,
    and a Redis or broker outage is waited out within the poll. A files source's unchanged files are read once,
    and the source's newest article time is read from Redis once."""
    published = PublishedFiles()
    freshness = SourceFreshness(source_label(source))
    while True:
        await poll(source, parts.http, parts.redis, send, ttl_s, wait_out_outages=True, published=published,
                   freshness=freshness)
        await asyncio.sleep(source.interval_s)
