"""What the fetcher already published, in Redis, so a restart neither resends nor skips.

The key is the article id (canonical URL); the value is the hash of the text, so an updated
article is published again as a new version while an unchanged one is not.
"""

from __future__ import annotations

from redis.asyncio import Redis

from newsmon.shared.article_ids import sha256_hex
from newsmon.shared.schemas import RawArticle

KEY_PREFIX = "newsmon:fetcher:published"


async def is_new_version(redis: Redis, article: RawArticle) -> bool:
    """True when this text of the article was never published."""
    stored = await redis.get(f"{KEY_PREFIX}:{article.article_id}")
    return stored is None or stored.decode() != sha256_hex(article.text)


async def remember(redis: Redis, article: RawArticle, ttl_seconds: int) -> None:
    """Record the published version; call only after the broker acknowledged it."""
    await redis.set(f"{KEY_PREFIX}:{article.article_id}", sha256_hex(article.text), ex=ttl_seconds)
