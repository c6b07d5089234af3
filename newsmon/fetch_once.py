"""``newsmon fetch --once``: one poll of the configured (or given) sources, outside the service.

With ``--dry-run`` it needs neither broker nor Redis: it prints what it would publish. Otherwise
it publishes through the same "new version?" check in Redis as the service, so running it next
to the service, or twice, publishes nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from newsmon.services.fetcher.collect import collect
from newsmon.services.fetcher.errors import SourceError
from newsmon.services.fetcher.polite_http import MemoryValidatorStore, polite_client
from newsmon.services.fetcher.published import is_new_version, remember
from newsmon.services.fetcher.sources import Source, configured_sources
from newsmon.services.fetcher.validator_store import RedisValidatorStore
from newsmon.shared import topics
from newsmon.shared.kafka_clients import producer
from newsmon.shared.logs import log_event
from newsmon.shared.redis_client import connect
from newsmon.shared.schemas import RawArticle
from newsmon.shared.settings import Settings

logger = logging.getLogger(__name__)

DRY_RUN_FIELDS = ("url", "canonical_url", "title", "text", "published_at", "source", "language")


def sources_for(settings: Settings, feed_urls: list[str]) -> list[Source]:
    """The given feeds, or else every configured source."""
    if feed_urls:
        return configured_sources(None, feed_urls, settings.feed_poll_seconds)
    return configured_sources(settings.sources_path, settings.feeds, settings.feed_poll_seconds)


async def collect_all(settings: Settings, sources: list[Source], *, use_redis: bool) -> AsyncIterator[RawArticle]:
    """Every article the sources offer now; a failing source is logged and the others go on."""
    redis = connect(settings) if use_redis else None
    http = polite_client(settings, RedisValidatorStore(redis, settings.dedupe_ttl_seconds) if redis
                         else MemoryValidatorStore())
    try:
        for source in sources:
            try:
                for article in await collect(source, http):
                    yield article
            except SourceError as error:
                log_event(logger, "fetch.source_failed", logging.WARNING, source=source.name, reason=str(error))
    finally:
        await http.client.aclose()
        if redis is not None:
            await redis.aclose()


async def publish_new(settings: Settings, sources: list[Source]) -> int:
    """Publish new or updated articles to ``articles.raw``; returns how many."""
    redis = connect(settings)
    writer = producer(settings)
    await writer.start()
    published = 0
    try:
        async for article in collect_all(settings, sources, use_redis=True):
            if await is_new_version(redis, article):
                await writer.send_and_wait(topics.ARTICLES_RAW, article.model_dump_json().encode(),
                                           key=article.article_id.encode())
                await remember(redis, article, settings.dedupe_ttl_seconds)
                published += 1
    finally:
        await writer.stop()
        await redis.aclose()
    return published
