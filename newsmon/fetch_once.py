"""``newsmon fetch --once``: one poll of the configured (or given) sources, outside the service.

With ``--dry-run`` it needs neither broker nor Redis: it prints what it would publish. Otherwise
it publishes through the service's own poll (the "new version?" check in Redis, validators
committed only after the broker acknowledged), so running it next to the service, or twice,
publishes nothing twice. A source that fails is logged and counted; the others go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.fetcher.collect import collect
from services.fetcher.polite_http import MemoryValidatorStore, polite_client
from services.fetcher.polling import isolated, poll, source_label
from services.fetcher.sources import Source, configured_sources
from services.fetcher.validator_store import RedisValidatorStore
from shared import topics
from shared.kafka_clients import producer
from shared.redis_client import connect
from shared.schemas import RawArticle
from shared.settings import Settings

DRY_RUN_FIELDS = ("url", "canonical_url", "title", "text", "published_at", "source", "language", "author")


@dataclass(frozen=True)
class FetchOutcome:
    """What one cycle did: how many articles it published (or showed, in a dry run), which sources failed."""

    articles: int
    failed_sources: list[str]


def sources_for(settings: Settings, feed_urls: list[str]) -> list[Source]:
    """The given feeds, or else every configured source."""
    if feed_urls:
        return configured_sources(None, feed_urls, settings.feed_poll_s, feeds_origin="--feed")
    return configured_sources(settings.sources_path, settings.feeds, settings.feed_poll_s)


async def show_all(settings: Settings, sources: list[Source], show: Callable[[RawArticle], None]) -> FetchOutcome:
    """Hand every article the sources offer now to ``show``: no Redis, no broker, nothing remembered."""
    http = polite_client(settings, MemoryValidatorStore())
    shown, failed = 0, []
    try:
        for source in sources:
            collected = await isolated(source, collect(source, http))
            if collected is None:
                failed.append(source_label(source))
                continue
            for article in collected.articles:
                show(article)
                shown += 1
    finally:
        await http.client.aclose()
    return FetchOutcome(shown, failed)


async def publish_new(settings: Settings, sources: list[Source]) -> FetchOutcome:
    """Publish new or updated articles to ``articles.raw``, source after source."""
    redis = connect(settings)
    writer = producer(settings)
    http = polite_client(settings, RedisValidatorStore(redis, settings.fetcher_memory_ttl_s))

    async def send(article: RawArticle) -> None:
        await writer.send_and_wait(topics.ARTICLES_RAW, article.model_dump_json().encode(),
                                   key=article.article_id.encode())

    published, failed = 0, []
    try:
        await writer.start()
        for source in sources:
            count = await poll(source, http, redis, send, settings.fetcher_memory_ttl_s)
            if count is None:
                failed.append(source_label(source))
            else:
                published += count
    finally:
        await http.client.aclose()
        await writer.stop()
        await redis.aclose()
    return FetchOutcome(published, failed)
