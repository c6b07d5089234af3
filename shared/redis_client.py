"""The Redis connection every service opens the same way."""

from __future__ import annotations

from redis.asyncio import Redis

from shared.settings import Settings


def connect(settings: Settings) -> Redis:
    """A pooled client; connections open lazily, so creating it never blocks start-up."""
    return Redis.from_url(settings.redis, socket_timeout=10, socket_connect_timeout=5, health_check_interval=30)


def text(value: bytes | str) -> str:
    """A Redis reply as text: redis-py answers bytes or str depending on the client's ``decode_responses``."""
    return value.decode() if isinstance(value, bytes) else value
