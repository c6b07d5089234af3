"""What digests still have to send, in Redis: entries kept until their digest is queued, one claim per period.

Keys under ``key_prefix`` (``newsmon:digests``):

- ``:pending`` set of the subscription ids that have entries waiting;
- ``:entries:<subscription id>`` hash of alert id -> entry JSON (the latest notice of that alert);
- ``:order:<subscription id>`` sorted set of alert ids by the time they were added (epoch seconds):
  a digest for the period ending at B takes the entries added before B;
- ``:seen:<subscription id>:<alert id>:<update sequence>`` set once per notice, kept ``SEEN_TTL_S``,
  so a redelivered alert is not listed again in a later digest;
- ``:claim:<subscription id>:<period end>`` the instance building that digest (``SET NX``, a lease
  of ``CLAIM_LEASE_S``), then ``sent`` for ``SENT_TTL_S`` once it is queued.

Entries are removed only after their digest is on the durable delivery queue, so a restart between
an alert and its digest loses nothing; a claim whose instance died runs out, and another instance
builds the digest again under the same message id, which the queue accepts only once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis

from shared.redis_client import text

KEY_PREFIX = "newsmon:digests"
SEEN_TTL_S = 8 * 24 * 3600  # longer than the longest period, so a redelivery within it is recognised
CLAIM_LEASE_S = 30  # building a digest is a few Redis calls; a dead instance holds its period this long
SENT_TTL_S = 8 * 24 * 3600

# KEYS: seen marker, entries hash, order zset, pending set; ARGV: alert id, entry JSON, update
# sequence, now, seen ttl, subscription id. Returns 1 when the entry was added or updated.
_ADD = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[5]) then return 0 end
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing and tonumber(cjson.decode(existing)['update_sequence'] or 0) > tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[6])
return 1
"""

# KEYS: entries hash, order zset, pending set, claim key; ARGV: sent ttl, subscription id, now,
# then (alert id, entry JSON as read) pairs. An entry changed since it was read (a newer update of
# the alert) stays, moved to the next period; the others go. The claim becomes ``sent``.
_SETTLE = """
for i = 4, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('ZREM', KEYS[2], ARGV[i])
  else
    redis.call('ZADD', KEYS[2], ARGV[3], ARGV[i])
  end
end
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('SREM', KEYS[3], ARGV[2]) end
redis.call('SET', KEYS[4], 'sent', 'EX', ARGV[1])
return 1
"""

# KEYS: entries hash, order zset, pending set; ARGV: subscription id. Forget a subscription's entries.
_DROP = """
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
return 1
"""


@dataclass(frozen=True)
class PendingEntry:
    """One entry of a digest to come: the alert id, the stored JSON (as read), and when it was added."""

    alert_id: str
    raw: str
    added_at: float

    @property
    def fields(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.raw)
        return decoded


class DigestStore:
    """Entries waiting for their digest, and the per-period claim that makes one instance send it."""

    def __init__(self, redis: Redis, key_prefix: str = KEY_PREFIX, claim_lease_s: int = CLAIM_LEASE_S) -> None:
        self.redis = redis
        self.key_prefix = key_prefix
        self.claim_lease_s = claim_lease_s
        self.pending_key = f"{key_prefix}:pending"
        self._add = redis.register_script(_ADD)
        self._settle = redis.register_script(_SETTLE)
        self._drop = redis.register_script(_DROP)

    def _entries_key(self, subscription_id: str) -> str:
        return f"{self.key_prefix}:entries:{subscription_id}"

    def _order_key(self, subscription_id: str) -> str:
        return f"{self.key_prefix}:order:{subscription_id}"

    def claim_key(self, subscription_id: str, period_end: float) -> str:
        return f"{self.key_prefix}:claim:{subscription_id}:{period_end:.0f}"

    async def add(self, subscription_id: str, alert_id: str, update_sequence: int, entry: dict[str, Any],
                  now: float) -> bool:
        """Keep an entry for the subscription's next digest; False when this notice was already added."""
        seen = f"{self.key_prefix}:seen:{subscription_id}:{alert_id}:{update_sequence}"
        return bool(await self._add(
            keys=[seen, self._entries_key(subscription_id), self._order_key(subscription_id), self.pending_key],
            args=[alert_id, json.dumps(entry, sort_keys=True), update_sequence, now, SEEN_TTL_S, subscription_id]))

    async def subscriptions_pending(self) -> list[str]:
        """Ids of the subscriptions with entries waiting."""
        return sorted(text(member) for member in await self.redis.smembers(self.pending_key))

    async def oldest(self, subscription_id: str) -> float | None:
        """When the oldest waiting entry of the subscription was added (None: nothing waits)."""
        found = await self.redis.zrange(self._order_key(subscription_id), 0, 0, withscores=True)
        return float(found[0][1]) if found else None

    async def entries_before(self, subscription_id: str, before: float) -> list[PendingEntry]:
        """The waiting entries added before ``before``, oldest first."""
        ordered = cast(list[tuple[bytes | str, float]], await self.redis.zrangebyscore(
            self._order_key(subscription_id), "-inf", f"({before!r}", withscores=True))
        if not ordered:
            return []
        ids = [text(member) for member, _ in ordered]
        raws = await self.redis.hmget(self._entries_key(subscription_id), ids)
        return [PendingEntry(alert_id, text(raw), float(score))
                for alert_id, raw, (_, score) in zip(ids, raws, ordered, strict=True) if raw is not None]

    async def claim(self, subscription_id: str, period_end: float) -> bool:
        """True for the one instance that builds this period's digest (until its lease runs out)."""
        return bool(await self.redis.set(self.claim_key(subscription_id, period_end), "building", nx=True,
                                         ex=self.claim_lease_s))

    async def settle(self, subscription_id: str, period_end: float, sent: list[PendingEntry], now: float) -> None:
        """The digest is queued: forget the entries it listed and mark the period sent."""
        pairs = [part for entry in sent for part in (entry.alert_id, entry.raw)]
        await self._settle(keys=[self._entries_key(subscription_id), self._order_key(subscription_id),
                                 self.pending_key, self.claim_key(subscription_id, period_end)],
                           args=[SENT_TTL_S, subscription_id, now, *pairs])

    async def drop(self, subscription_id: str) -> None:
        """Forget what waits for a subscription that no longer exists or no longer wants digests."""
        await self._drop(keys=[self._entries_key(subscription_id), self._order_key(subscription_id),
                               self.pending_key], args=[subscription_id])
