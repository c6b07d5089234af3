"""Which alerts were already published, in Redis: one alert per (rule, story), across restarts.

The key goes ``pending`` before the alert is published and ``published`` after the broker has
acknowledged it. A redelivered message finds ``published`` and stops; one that died in between
finds ``pending`` and publishes again, so no alert is lost and consumers dedupe on ``alert_id``.
"""

from __future__ import annotations

from redis.asyncio import Redis

KEY_PREFIX = "newsmon:alerts"
PENDING = b"pending"
PUBLISHED = b"published"


async def needs_publishing(redis: Redis, alert_id: str, ttl_seconds: int) -> bool:
    """True unless this alert was already published."""
    key = f"{KEY_PREFIX}:{alert_id}"
    if await redis.set(key, PENDING, nx=True, ex=ttl_seconds):
        return True
    return await redis.get(key) != PUBLISHED


async def mark_published(redis: Redis, alert_id: str, ttl_seconds: int) -> None:
    """Record that the broker holds the alert."""
    await redis.set(f"{KEY_PREFIX}:{alert_id}", PUBLISHED, ex=ttl_seconds)
