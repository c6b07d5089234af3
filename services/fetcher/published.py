"""What the fetcher already published, in Redis, so a restart neither resends nor skips.

The key is the article id (canonical URL); the value is the hash of the text, so an updated
article is published again as a new version while an unchanged one is not.
"""

from __future__ import annotations

from redis.asyncio import Redis

from shared.article_ids import sha256_hex
from shared.redis_client import text
from shared.schemas import RawArticle

KEY_PREFIX = "newsmon:fetcher:published"
NEWEST_PREFIX = "newsmon:fetcher:newest"


async def is_new_version(redis: Redis, article: RawArticle) -> bool:
    """True when this text of the article was never published."""
    stored = await redis.get(f"{KEY_PREFIX}:{article.article_id}")
    return stored is None or text(stored) != sha256_hex(article.text)


async def remember(redis: Redis, article: RawArticle, ttl_seconds: int) -> None:
    """Record the published version; call only after the broker acknowledged it."""
    await redis.set(f"{KEY_PREFIX}:{article.article_id}", sha256_hex(article.text), ex=ttl_seconds)


class SourceFreshness:
    """The newest publication time ever seen from one source, kept across restarts in Redis.

    After a restart the first polls are answered 304 and show no articles; the stored time keeps the
    source's freshness visible instead of blank. Redis is read at the first poll and written when the
    time moves: a quiet folder polled every second asked Redis on every poll for a value only this
    loop writes (one fetcher polls each source).
    """

    def __init__(self, source: str) -> None:
        self.key = f"{NEWEST_PREFIX}:{sha256_hex(source)[:32]}"
        self._read = False
        self._newest: float | None = None

    async def update(self, redis: Redis, seen_now: float | None) -> float | None:
        """The newest time, given the newest publication of this poll (None: it published nothing)."""
        if not self._read:
            stored = await redis.get(self.key)
            self._newest = float(stored) if stored else None
            self._read = True
        if seen_now is not None and (self._newest is None or seen_now > self._newest):
            await redis.set(self.key, repr(seen_now))
            self._newest = seen_now
        return self._newest
