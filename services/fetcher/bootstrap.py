"""Everything the fetcher needs, built once from the settings when the service starts (never at import)."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from services.fetcher.polite_http import PoliteClient, polite_client
from services.fetcher.sources import Source, configured_sources
from services.fetcher.validator_store import RedisValidatorStore
from shared.readiness import redis_answers
from shared.redis_client import connect
from shared.settings import Settings


@dataclass(frozen=True)
class FetcherDependencies:
    """The sources to poll, Redis (what was published, validators) and the polite HTTP client."""

    sources: list[Source]
    redis: Redis
    http: PoliteClient

    async def redis_reachable(self) -> bool:
        """Readiness check: Redis answers a PING (else ``NotReady`` says where and why)."""
        return await redis_answers(self.redis)


def bootstrap(settings: Settings) -> FetcherDependencies:
    """Build the fetcher's parts; a bad sources file raises ``SourceError`` naming file, source and field."""
    sources = configured_sources(settings.sources_path, settings.feeds, settings.feed_poll_s)
    redis = connect(settings)
    http = polite_client(settings, RedisValidatorStore(redis, settings.fetcher_memory_ttl_s))
    return FetcherDependencies(sources, redis, http)
