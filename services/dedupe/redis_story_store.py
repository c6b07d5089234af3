"""The ``StoryStore`` in Redis: shared by every dedupe worker, kept across restarts, bounded by TTLs.

Keys (``<prefix>`` is ``newsmon:dedupe``), each with a TTL of one window (``dedupe_ttl_s``)
from when it was written (for band and outlet sets: last written):

- ``<prefix>:url:<sha256>`` / ``<prefix>:text:<sha256>``: the article that claimed the canonical
  URL / normalized text first (``SET NX``, so a redelivered article finds its own claim);
- ``<prefix>:signature:<article_id>``: the MinHash signature, to compute similarity to candidates;
- ``<prefix>:band:<layout>:<band>:<digest>``: a sorted set of article ids by time seen; members
  older than the window are trimmed on every write, so the index never outgrows the window;
- ``<prefix>:verdict:<article_id>``: the article's story, duplicate_of and similarity (``SET NX``);
- ``<prefix>:outlets:<story_id>``: the set of outlets carrying the story.

Each article costs two round trips, one Lua script each: ``SIGHT`` records the article and
returns the signatures and verdicts of every other article it met (exact claims, band members),
and ``SETTLE`` keeps the verdict and counts the outlet under the kept verdict's story. Neither is
a transaction across articles: every write is idempotent, so a crash between the two leaves
nothing that a redelivery would not repair. The scripts touch keys they derive from the prefix,
which a Redis Cluster would only accept within one hash slot; newsmon targets a single Redis (or
a primary with replicas).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from services.dedupe.story_store import (
    MAX_BAND_MEMBERS,
    ExactKind,
    Recollection,
    Sighting,
    StoryVerdict,
)
from shared.redis_client import text

KEY_PREFIX = "newsmon:dedupe"
# KEYS: verdict key, signature key, the exact claim keys (ARGV[5] of them), then the band keys.
# ARGV: article id, signature, now, window seconds, number of claim keys, members read per band, prefix.
# Returns {own verdict or nil, claim owners, other ids met, their signatures, their verdicts}.
SIGHT = """
local id, window, claims = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5])
local stored = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[2], ARGV[2], 'EX', window)
local owners, others, seen = {}, {}, {[id] = true}
local function meet(other)
  if not seen[other] then
    seen[other] = true
    others[#others + 1] = other
  end
end
for i = 3, 2 + claims do
  redis.call('SET', KEYS[i], id, 'NX', 'EX', window)
  local owner = redis.call('GET', KEYS[i]) or id
  owners[#owners + 1] = owner
  meet(owner)
end
local neighbours = {}
for i = 3 + claims, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[3], id)
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[3] - window)
  redis.call('EXPIRE', KEYS[i], window)
  for _, member in ipairs(redis.call('ZRANGE', KEYS[i], -tonumber(ARGV[6]), -1)) do
    if member ~= id then neighbours[member] = true end
    meet(member)
  end
end
local signatures, verdicts, members = {}, {}, {}
for index, other in ipairs(others) do
  signatures[index] = redis.call('GET', ARGV[7] .. ':signature:' .. other)
  verdicts[index] = redis.call('GET', ARGV[7] .. ':verdict:' .. other)
  members[index] = neighbours[other] and 1 or 0
end
return {stored, owners, others, signatures, verdicts, members}
"""
# KEYS: the article's verdict key. ARGV: verdict JSON, window seconds, outlet, outlets key prefix.
# Returns {the verdict kept, the outlet count of its story}.
SETTLE = """
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
local kept = redis.call('GET', KEYS[1])
local outlets = ARGV[4] .. cjson.decode(kept)['story_id']
redis.call('SADD', outlets, ARGV[3])
redis.call('EXPIRE', outlets, ARGV[2])
return {kept, redis.call('SCARD', outlets)}
"""


class RedisStoryStore:
    """A ``StoryStore`` over an asyncio Redis client (``shared.redis_client.connect``)."""

    def __init__(self, redis: Redis, window_seconds: int, prefix: str = KEY_PREFIX,
                 clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.window_seconds = window_seconds
        self.prefix = prefix
        self._clock = clock
        # A registered script is sent as EVALSHA and loaded again by redis-py when Redis has forgotten it.
        self._sight = redis.register_script(SIGHT)
        self._settle = redis.register_script(SETTLE)

    async def sight(self, article_id: str, exact_keys: dict[ExactKind, str], signature: bytes,
                    band_keys: list[str]) -> Sighting:
        keys = [f"{self.prefix}:verdict:{article_id}", f"{self.prefix}:signature:{article_id}",
                *(f"{self.prefix}:{kind}:{digest}" for kind, digest in exact_keys.items()),
                *(f"{self.prefix}:band:{band}" for band in band_keys)]
        reply: list[Any] = await self._sight(keys=keys, args=[
            article_id, signature, self._clock(), self.window_seconds, len(exact_keys), MAX_BAND_MEMBERS,
            self.prefix])
        stored, owners, others, signatures, verdicts, members = reply
        others = [text(other) for other in others]
        known = {
            other: Recollection(signature, StoryVerdict.model_validate_json(verdict) if verdict else None)
            for other, signature, verdict in zip(others, signatures, verdicts, strict=True)
            if signature is not None or verdict is not None
        }
        neighbours = sorted(other for other, member in zip(others, members, strict=True) if member)
        return Sighting(StoryVerdict.model_validate_json(stored) if stored else None,
                        {kind: text(owner) for kind, owner in zip(exact_keys, owners, strict=True)},
                        neighbours, known)

    async def settle(self, article_id: str, verdict: StoryVerdict, outlet: str) -> tuple[StoryVerdict, int]:
        kept, count = await self._settle(keys=[f"{self.prefix}:verdict:{article_id}"], args=[
            verdict.model_dump_json(), self.window_seconds, outlet, f"{self.prefix}:outlets:"])
        return StoryVerdict.model_validate_json(kept), int(count)
