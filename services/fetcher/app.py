"""The fetcher service: polls the configured RSS/Atom feeds and publishes new articles to articles.raw.

Files and folders are published by ``newsmon replay`` through the same article readers.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from prometheus_client import Counter, Gauge

from newsmon import __version__
from newsmon.services.fetcher.errors import SourceError
from newsmon.services.fetcher.feeds import fetch_feed
from newsmon.services.fetcher.published import is_new_version, remember
from newsmon.shared import topics
from newsmon.shared.logs import log_event
from newsmon.shared.redis_client import connect
from newsmon.shared.settings import get_settings
from newsmon.shared.stream_app import create_app, publish, raw_topic

USER_AGENT = f"newsmon/{__version__} (+https://github.com/newsmon/newsmon)"
FETCHES = Counter("newsmon_fetches_total", "Feed fetches, by outcome.", ["outcome"])
LAST_SUCCESS = Gauge("newsmon_source_last_success_timestamp_seconds", "Last successful fetch.", ["source"])
LAST_ARTICLE = Gauge(
    "newsmon_source_last_article_timestamp_seconds", "Publication time of the newest article seen.", ["source"]
)
logger = logging.getLogger(__name__)

settings = get_settings()
redis = connect(settings)


async def redis_reachable() -> bool:
    return bool(await redis.ping())


app = create_app("fetcher", settings, readiness=[redis_reachable])
raw_articles = raw_topic(app, topics.ARTICLES_RAW)
http = httpx.AsyncClient(
    timeout=settings.http_timeout_s, headers={"User-Agent": USER_AGENT}, follow_redirects=True, max_redirects=5
)


async def poll_feed(feed_url: str) -> int:
    """Publish the new or updated articles of one feed; returns how many."""
    try:
        articles = await fetch_feed(http, feed_url)
    except (SourceError, httpx.HTTPError) as error:
        FETCHES.labels("error").inc()
        log_event(logger, "fetch.failed", logging.WARNING, source=feed_url, reason=str(error))
        return 0
    FETCHES.labels("ok").inc()
    LAST_SUCCESS.labels(feed_url).set_to_current_time()
    # A feed lists its newest items, so the newest item of this poll is the source's newest article.
    newest = max(((a.published_at or a.fetched_at).timestamp() for a in articles), default=None)
    if newest is not None:
        LAST_ARTICLE.labels(feed_url).set(newest)
    published = 0
    for article in articles:
        if await is_new_version(redis, article):
            await publish(raw_articles, "fetcher", article.article_id, article)
            await remember(redis, article, settings.dedupe_ttl_seconds)
            log_event(logger, "fetch.published", article_id=article.article_id, url=article.url)
            published += 1
    return published


@app.task
async def poll_feeds_forever() -> None:
    """Poll every feed, then wait the poll interval; one failing feed never stops the others."""
    while True:
        await asyncio.gather(*(poll_feed(url) for url in settings.feeds))
        await asyncio.sleep(settings.feed_poll_seconds)
