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


async def newest_article_time(redis: Redis, source: str, seen_now: float | None) -> float | None:
    """The newest publication time ever seen from ``source``, kept across restarts.

    After a restart the first polls are answered 304 and show no articles; the stored time
    keeps the source's freshness visible instead of blank.
    """
    key = f"{NEWEST_PREFIX}:{sha256_hex(source)[:32]}"
    stored = await redis.get(key)
    newest = max(filter(None, (seen_now, float(stored) if stored else None)), default=None)
    if newest is not None and newest != (float(stored) if stored else None):
        await redis.set(key, repr(newest))
    return newest
