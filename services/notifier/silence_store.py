"""Silences in Redis, shared by every notifier instance: each expires on its own, by its key's TTL.

Keys under ``key_prefix`` (``newsmon:silences``):

- ``:silence:<id>`` the silence JSON, expiring when the silence ends (so nothing has to end it);
- ``:ids`` the set of silence ids, for listing; an id whose silence expired is dropped as it is read.

A silence lives in Redis (append-only file on the embedded stack), so it survives restarts of the
notifier and of Redis. What a silence held back is recorded by the delivery queue
(``DeliveryQueue.record_silenced``), per subscriber, with the silence id; that record, not the
silence, keeps the alert from being sent once the silence has ended.
"""

from __future__ import annotations

from datetime import datetime

from redis.asyncio import Redis

from services.notifier.silences import Silence, first_holding
from shared.schemas import Alert, utcnow

KEY_PREFIX = "newsmon:silences"

# KEYS: ids set; ARGV: silence key prefix. Returns the stored silence JSONs, dropping expired ids.
_ACTIVE = """
local found = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local silence = redis.call('GET', ARGV[1] .. id)
  if silence then found[#found + 1] = silence else redis.call('SREM', KEYS[1], id) end
end
return found
"""


class SilenceStore:
    """Add, list and end silences, and say which one holds back an alert for a subscriber."""

    def __init__(self, redis: Redis, key_prefix: str = KEY_PREFIX) -> None:
        self.redis = redis
        self.key_prefix = key_prefix
        self.ids_key = f"{key_prefix}:ids"
        self._active = redis.register_script(_ACTIVE)

    def _silence_key(self, silence_id: str) -> str:
        return f"{self.key_prefix}:silence:{silence_id}"

    async def add(self, silence: Silence, now: datetime | None = None) -> None:
        """Store a silence until its end; one that already ended is not stored at all."""
        ttl_ms = int((silence.ends_at - (now or utcnow())).total_seconds() * 1000)
        if ttl_ms <= 0:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._silence_key(silence.id), silence.model_dump_json(), px=ttl_ms)
            pipe.sadd(self.ids_key, silence.id)
            await pipe.execute()

    async def active(self, now: datetime | None = None) -> list[Silence]:
        """The silences in force, ending soonest first (one round trip)."""
        now = now or utcnow()
        silences = [Silence.model_validate_json(raw)
                    for raw in await self._active(keys=[self.ids_key], args=[self._silence_key("")])]
        return sorted((silence for silence in silences if silence.active(now)),
                      key=lambda silence: (silence.ends_at, silence.id))

    async def get(self, silence_id: str) -> Silence | None:
        """The silence in force with that id, or None (never existed, ended, expired)."""
        raw = await self.redis.get(self._silence_key(silence_id))
        return None if raw is None else Silence.model_validate_json(raw)

    async def end(self, silence_id: str) -> bool:
        """End a silence now; False when there was none in force with that id."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._silence_key(silence_id))
            pipe.srem(self.ids_key, silence_id)
            removed, _ = await pipe.execute()
        return bool(removed)

    async def silencing(self, alert: Alert, subscription_id: str, now: datetime | None = None) -> Silence | None:
        """The silence in force that holds back ``alert`` for the subscriber; None: nothing holds it back."""
        return first_holding(await self.active(now), alert.rule_id, alert.story_id, subscription_id,
                             now or utcnow())
