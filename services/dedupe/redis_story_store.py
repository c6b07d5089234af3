"""The ``StoryStore`` in Redis: shared by every dedupe worker, kept across restarts, bounded by TTLs.

Keys (``<prefix>`` is ``newsmon:dedupe``), each with a TTL of one window (``dedupe_ttl_s``)
from when it was written (for band and outlet sets: last written):

- ``<prefix>:url:<sha256>`` / ``<prefix>:text:<sha256>``: the article that claimed the canonical
  URL / normalized text first (``SET NX``, so a redelivered article finds its own claim);
- ``<prefix>:signature:<article_id>``: the MinHash signature, to compute similarity to candidates;
- ``<prefix>:band:<layout>:<band>:<digest>``: a sorted set of article ids by time seen; members
  older than the window are trimmed on every write, so the index never outgrows the window
  (one Lua script joins all bands of an article: one command instead of four per band);
- ``<prefix>:verdict:<article_id>``: the article's story, duplicate_of and similarity (``SET NX``);
- ``<prefix>:outlets:<story_id>``: the set of outlets carrying the story.

Each call is one pipelined round trip, not a transaction: every write is idempotent, so a crash
between two calls leaves nothing that a redelivery would not repair. The band script touches
several keys, which a Redis Cluster would only accept within one hash slot; newsmon targets a
single Redis (or a primary with replicas).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from services.dedupe.story_store import (
    MAX_BAND_MEMBERS,
    ExactKind,
    Recollection,
    Sighting,
    StoryVerdict,
)
from shared.redis_client import text

KEY_PREFIX = "newsmon:dedupe"
# KEYS: the article's band keys. ARGV: article id, now, window seconds, members read per band.
# Returns the distinct members of the article's bands, itself included.
JOIN_BANDS = """
local found, members = {}, {}
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[2], ARGV[1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[2] - ARGV[3])
  redis.call('EXPIRE', key, ARGV[3])
  for _, member in ipairs(redis.call('ZRANGE', key, -tonumber(ARGV[4]), -1)) do
    if not found[member] then
      found[member] = true
      members[#members + 1] = member
    end
  end
end
return members
"""



class RedisStoryStore:
    """A ``StoryStore`` over an asyncio Redis client (``shared.redis_client.connect``)."""

    def __init__(self, redis: Redis, window_seconds: int, prefix: str = KEY_PREFIX,
                 clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.window_seconds = window_seconds
        self.prefix = prefix
        self._clock = clock
        self._join_bands_sha = hashlib.sha1(JOIN_BANDS.encode()).hexdigest()

    def _verdict_key(self, article_id: str) -> str:
        return f"{self.prefix}:verdict:{article_id}"

    def _signature_key(self, article_id: str) -> str:
        return f"{self.prefix}:signature:{article_id}"

    async def sight(self, article_id: str, exact_keys: dict[ExactKind, str], signature: bytes,
                    band_keys: list[str]) -> Sighting:
        try:
            replies = await self._record(article_id, exact_keys, signature, band_keys)
        except NoScriptError:  # a restarted or flushed Redis has forgotten the script; every write is idempotent
            await self.redis.script_load(JOIN_BANDS)
            replies = await self._record(article_id, exact_keys, signature, band_keys)
        stored, claim_replies = replies[0], replies[1:1 + 2 * len(exact_keys)]
        owners = {kind: text(owner) for kind, owner in zip(exact_keys, claim_replies[1::2], strict=True)}
        members = replies[2 + 2 * len(exact_keys)] if band_keys else []
        verdict = StoryVerdict.model_validate_json(stored) if stored else None
        return Sighting(verdict, owners, sorted({text(member) for member in members} - {article_id}))

    async def _record(self, article_id: str, exact_keys: dict[ExactKind, str], signature: bytes,
                      band_keys: list[str]) -> list[Any]:
        window = self.window_seconds
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(self._verdict_key(article_id))
            for kind, digest in exact_keys.items():
                pipe.set(f"{self.prefix}:{kind}:{digest}", article_id, nx=True, ex=window)
                pipe.get(f"{self.prefix}:{kind}:{digest}")
            pipe.set(self._signature_key(article_id), signature, ex=window)
            if band_keys:
                # EVALSHA, not a registered Script: a pipeline would check SCRIPT EXISTS on every call.
                keys = [f"{self.prefix}:band:{band}" for band in band_keys]
                pipe.evalsha(self._join_bands_sha, len(keys), *keys, article_id, self._clock(), window,
                             MAX_BAND_MEMBERS)
            return list(await pipe.execute())

    async def recall(self, article_ids: list[str]) -> dict[str, Recollection]:
        if not article_ids:
            return {}
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.mget([self._signature_key(article_id) for article_id in article_ids])
            pipe.mget([self._verdict_key(article_id) for article_id in article_ids])
            signatures, verdicts = await pipe.execute()
        return {
            article_id: Recollection(signature, StoryVerdict.model_validate_json(verdict) if verdict else None)
            for article_id, signature, verdict in zip(article_ids, signatures, verdicts, strict=True)
            if signature is not None or verdict is not None
        }

    async def settle(self, article_id: str, verdict: StoryVerdict) -> StoryVerdict:
        key = self._verdict_key(article_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(key, verdict.model_dump_json(), nx=True, ex=self.window_seconds)
            pipe.get(key)
            _, kept = await pipe.execute()
        return StoryVerdict.model_validate_json(kept)

    async def add_outlet(self, story_id: str, outlet: str) -> int:
        key = f"{self.prefix}:outlets:{story_id}"
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.sadd(key, outlet)
            pipe.expire(key, self.window_seconds)
            pipe.scard(key)
            *_, count = await pipe.execute()
        return int(count)
