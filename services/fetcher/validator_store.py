"""ETag / Last-Modified per URL in Redis, so conditional GETs survive restarts."""

from __future__ import annotations

from redis.asyncio import Redis

from services.fetcher.polite_http import Validators
from shared.article_ids import sha256_hex
from shared.redis_client import text

KEY_PREFIX = "newsmon:fetcher:validators"


class RedisValidatorStore:
    """A ``ValidatorStore`` in Redis; entries expire so dead URLs do not accumulate."""

    def __init__(self, redis: Redis, ttl_seconds: int) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds

    async def load(self, url: str) -> Validators:
        stored = await self.redis.hgetall(self._key(url))
        fields = {text(name): text(value) for name, value in stored.items()}
        return Validators(etag=fields.get("etag"), last_modified=fields.get("last_modified"))

    async def save(self, url: str, validators: Validators) -> None:
        pairs = (("etag", validators.etag), ("last_modified", validators.last_modified))
        key = self._key(url)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            if any(value for _, value in pairs):
                pipe.hset(key, mapping={name: value for name, value in pairs if value})
                pipe.expire(key, self.ttl_seconds)
            await pipe.execute()

    @staticmethod
    def _key(url: str) -> str:
        return f"{KEY_PREFIX}:{sha256_hex(url)[:32]}"
