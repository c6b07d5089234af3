"""The fetcher service: polls every configured source on its own interval, publishes new articles.

Files and folders can also be published on demand by ``newsmon replay`` through the same readers.
"""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import Gauge

from newsmon.services.fetcher.collect import collect
from newsmon.services.fetcher.errors import SourceError
from newsmon.services.fetcher.polite_http import polite_client
from newsmon.services.fetcher.published import is_new_version, newest_article_time, remember
from newsmon.services.fetcher.sources import Source, configured_sources
from newsmon.services.fetcher.validator_store import RedisValidatorStore
from newsmon.shared import metrics, topics
from newsmon.shared.logs import log_event
from newsmon.shared.redis_client import connect
from newsmon.shared.settings import get_settings
from newsmon.shared.stream_app import create_app, publish, raw_topic

LAST_SUCCESS = Gauge("newsmon_source_last_success_timestamp_seconds", "Last successful poll.", ["source"])
LAST_ARTICLE = Gauge(
    "newsmon_source_last_article_timestamp_seconds", "Publication time of the newest article seen.", ["source"]
)
SOURCE_ERRORS = Gauge("newsmon_source_consecutive_errors", "Failed polls in a row.", ["source"])
logger = logging.getLogger(__name__)

settings = get_settings()
# Invalid sources fail here, at start, with the file, the source and the field.
sources = configured_sources(settings.sources_path, settings.feeds, settings.feed_poll_seconds)
redis = connect(settings)
http = polite_client(settings, RedisValidatorStore(redis, settings.dedupe_ttl_seconds))


async def redis_reachable() -> bool:
    return bool(await redis.ping())


app = create_app("fetcher", settings, readiness=[redis_reachable])
raw_articles = raw_topic(app, topics.ARTICLES_RAW, produced_by="fetcher")


async def poll(source: Source) -> int:
    """Publish the new or updated articles of one source; returns how many."""
    label = source.url or source.name
    try:
        articles = await collect(source, http)
    except SourceError as error:
        SOURCE_ERRORS.labels(label).inc()
        log_event(logger, "fetch.source_failed", logging.WARNING, source=label, reason=str(error))
        return 0
    SOURCE_ERRORS.labels(label).set(0)
    LAST_SUCCESS.labels(label).set_to_current_time()
    metrics.LAST_ACTIVITY.labels("fetcher").set_to_current_time()
    seen_now = max(((a.published_at or a.fetched_at).timestamp() for a in articles), default=None)
    newest = await newest_article_time(redis, label, seen_now)
    if newest is not None:
        LAST_ARTICLE.labels(label).set(newest)
    published = 0
    for article in articles:
        if await is_new_version(redis, article):
            await publish(raw_articles, "fetcher", article.article_id, article)
            await remember(redis, article, settings.dedupe_ttl_seconds)
            log_event(logger, "fetch.published", article_id=article.article_id, url=article.url, source=label)
            published += 1
    return published


async def poll_forever(source: Source) -> None:
    while True:
        await poll(source)
        await asyncio.sleep(source.interval_s)


@app.task
async def poll_all_sources() -> None:
    """Each source on its own interval; a slow or failing source never delays the others."""
    await asyncio.gather(*(poll_forever(source) for source in sources))
