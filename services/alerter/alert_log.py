"""Which alerts were already published: one alert per (rule, story), across restarts and instances.

The state of an alert goes ``pending`` before it is published and ``published`` after the broker
has acknowledged it. A redelivered message finds ``published`` and stops; one that died in between
finds ``pending`` and publishes again, so no alert is lost and consumers dedupe on ``alert_id``.
An alert held back by its rule's cooldown is recorded ``suppressed``: a redelivery after the
cooldown has run out does not send an old story late.

A rule's cooldown is held by the alert id that started it, expiring with the cooldown. The holder
itself may publish again (its own redelivery after a crash); any other alert of the rule is
suppressed until it expires.

``RedisAlertLog`` is shared by every alerter instance; ``MemoryAlertLog`` is its in-process twin
for unit tests, with the same answers for the same calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis

KEY_PREFIX = "newsmon:alerts"
COOLDOWN_PREFIX = "newsmon:cooldown"
PENDING = b"pending"
PUBLISHED = b"published"
SUPPRESSED = b"suppressed"

# KEYS: alert key; ARGV: ttl in s. 1 when the alert is new (now pending) or still pending, 0 when it was
# published or suppressed: one round trip where SET NX then GET took two for a redelivered alert.
_NEEDS_PUBLISHING = """
local state = redis.call('GET', KEYS[1])
if not state then
  redis.call('SET', KEYS[1], 'pending', 'EX', ARGV[1])
  return 1
end
if state == 'published' or state == 'suppressed' then return 0 end
return 1
"""

# KEYS: cooldown key; ARGV: alert id, cooldown in ms. 1 when this alert holds the cooldown.
_CLAIM_COOLDOWN = """
local holder = redis.call('GET', KEYS[1])
if not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder == ARGV[1] then return 1 end
return 0
"""


class AlertLog(Protocol):
    """Where the alerter records what it published, suppressed, or is about to publish."""

    async def needs_publishing(self, alert_id: str) -> bool:
        """True unless this alert was already published or suppressed; marks it pending when new."""

    async def mark_published(self, alert_id: str) -> None:
        """Record that the broker holds the alert."""

    async def mark_suppressed(self, alert_id: str) -> None:
        """Record that the alert was held back by a cooldown and must never be sent."""

    async def claim_cooldown(self, rule_id: str, alert_id: str, cooldown_s: float) -> bool:
        """True when the alert may fire: no cooldown of the rule is running, or this alert started it."""


class RedisAlertLog:
    """The ``AlertLog`` in Redis; every key expires after ``ttl_s`` (how long an alert is remembered)."""

    def __init__(self, redis: Redis, ttl_s: int) -> None:
        self.redis = redis
        self.ttl_s = ttl_s
        self._needs_publishing = redis.register_script(_NEEDS_PUBLISHING)
        self._claim_cooldown = redis.register_script(_CLAIM_COOLDOWN)

    async def needs_publishing(self, alert_id: str) -> bool:
        return bool(await self._needs_publishing(keys=[f"{KEY_PREFIX}:{alert_id}"], args=[self.ttl_s]))

    async def mark_published(self, alert_id: str) -> None:
        await self.redis.set(f"{KEY_PREFIX}:{alert_id}", PUBLISHED, ex=self.ttl_s)

    async def mark_suppressed(self, alert_id: str) -> None:
        await self.redis.set(f"{KEY_PREFIX}:{alert_id}", SUPPRESSED, ex=self.ttl_s)

    async def claim_cooldown(self, rule_id: str, alert_id: str, cooldown_s: float) -> bool:
        claimed = await self._claim_cooldown(keys=[f"{COOLDOWN_PREFIX}:{rule_id}"],
                                             args=[alert_id, max(int(cooldown_s * 1000), 1)])
        return bool(claimed)


class MemoryAlertLog:
    """An in-process ``AlertLog``; cooldowns run on ``clock`` so tests can move time."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.states: dict[str, bytes] = {}
        self.cooldowns: dict[str, tuple[str, float]] = {}
        self._clock = clock

    async def needs_publishing(self, alert_id: str) -> bool:
        return self.states.setdefault(alert_id, PENDING) not in (PUBLISHED, SUPPRESSED)

    async def mark_published(self, alert_id: str) -> None:
        self.states[alert_id] = PUBLISHED

    async def mark_suppressed(self, alert_id: str) -> None:
        self.states[alert_id] = SUPPRESSED

    async def claim_cooldown(self, rule_id: str, alert_id: str, cooldown_s: float) -> bool:
        now = self._clock()
        holder = self.cooldowns.get(rule_id)
        if holder is None or holder[1] <= now:
            self.cooldowns[rule_id] = (alert_id, now + cooldown_s)
            return True
        return holder[0] == alert_id
