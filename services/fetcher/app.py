"""The fetcher service: polls every configured source on its own interval, publishes new articles.

Files and folders can also be published on demand by ``newsmon replay`` through the same readers.
"""

from __future__ import annotations

import asyncio

from services.fetcher.polite_http import polite_client
from services.fetcher.polling import poll
from services.fetcher.sources import Source, configured_sources
from services.fetcher.validator_store import RedisValidatorStore
from shared import topics
from shared.redis_client import connect
from shared.schemas import RawArticle
from shared.settings import get_settings
from shared.stream_app import create_app, publish, raw_topic

settings = get_settings()
# Invalid sources fail here, at start, with the file, the source and the field.
sources = configured_sources(settings.sources_path, settings.feeds, settings.feed_poll_seconds)
redis = connect(settings)
http = polite_client(settings, RedisValidatorStore(redis, settings.dedupe_ttl_seconds))


async def redis_reachable() -> bool:
    return bool(await redis.ping())


app = create_app("fetcher", settings, readiness=[redis_reachable])
raw_articles = raw_topic(app, topics.ARTICLES_RAW, produced_by="fetcher")


async def send(article: RawArticle) -> None:
    """Publish one article and wait for the broker's acknowledgement."""
    await publish(raw_articles, "fetcher", article.article_id, article)


async def poll_forever(source: Source) -> None:
    """Poll one source until the service stops; a failed poll is logged and counted by ``poll``, never fatal."""
    while True:
        await poll(source, http, redis, send, settings.dedupe_ttl_seconds)
        await asyncio.sleep(source.interval_s)


@app.task
async def poll_all_sources() -> None:
    """Each source on its own interval; a slow or failing source never delays the others."""
    await asyncio.gather(*(poll_forever(source) for source in sources))
