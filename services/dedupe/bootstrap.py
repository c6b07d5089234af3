"""Everything dedupe needs, built once from the settings when the service starts (never at import)."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from services.dedupe.redis_story_store import RedisStoryStore
from services.dedupe.sketches import Sketcher
from services.dedupe.stories import StoryJudge
from shared.readiness import redis_answers
from shared.redis_client import connect
from shared.settings import Settings


@dataclass(frozen=True)
class DedupeDependencies:
    """Dedupe's long-lived parts: the Redis connection and the story judge over it."""

    redis: Redis
    judge: StoryJudge

    async def redis_reachable(self) -> bool:
        """Readiness check: Redis answers a PING (else ``NotReady`` says where and why)."""
        return await redis_answers(self.redis)


def bootstrap(settings: Settings) -> DedupeDependencies:
    redis = connect(settings)
    store = RedisStoryStore(redis, settings.dedupe_ttl_s)
    return DedupeDependencies(redis, StoryJudge(store, Sketcher(settings.dedupe_similarity_threshold)))
