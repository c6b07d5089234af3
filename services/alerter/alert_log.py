"""Which alerts were already published, in Redis: one alert per (rule, story), across restarts.

The key goes ``pending`` before the alert is published and ``published`` after the broker has
acknowledged it. A redelivered message finds ``published`` and stops; one that died in between
finds ``pending`` and publishes again, so no alert is lost and consumers dedupe on ``alert_id``.
An alert held back by its rule's cooldown is recorded ``suppressed``: a redelivery after the
cooldown has run out does not send an old story late.

A rule's cooldown is one key per rule holding the alert id that started it, expiring with the
cooldown. The holder itself may publish again (its own redelivery after a crash); any other
alert of the rule is suppressed until the key expires.
"""

from __future__ import annotations

from redis.asyncio import Redis

KEY_PREFIX = "newsmon:alerts"
COOLDOWN_PREFIX = "newsmon:cooldown"
PENDING = b"pending"
PUBLISHED = b"published"
SUPPRESSED = b"suppressed"

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


async def needs_publishing(redis: Redis, alert_id: str, ttl_seconds: int) -> bool:
    """True unless this alert was already published or suppressed."""
    key = f"{KEY_PREFIX}:{alert_id}"
    if await redis.set(key, PENDING, nx=True, ex=ttl_seconds):
        return True
    return await redis.get(key) not in (PUBLISHED, SUPPRESSED)


async def mark_published(redis: Redis, alert_id: str, ttl_seconds: int) -> None:
    """Record that the broker holds the alert."""
    await redis.set(f"{KEY_PREFIX}:{alert_id}", PUBLISHED, ex=ttl_seconds)


async def mark_suppressed(redis: Redis, alert_id: str, ttl_seconds: int) -> None:
    """Record that the alert was held back by a cooldown and must never be sent."""
    await redis.set(f"{KEY_PREFIX}:{alert_id}", SUPPRESSED, ex=ttl_seconds)


async def claim_cooldown(redis: Redis, rule_id: str, alert_id: str, cooldown_s: float) -> bool:
    """True when the alert may fire: no cooldown of the rule is running, or this alert started it."""
    claimed = await redis.eval(_CLAIM_COOLDOWN, 1, f"{COOLDOWN_PREFIX}:{rule_id}", alert_id,
                               max(int(cooldown_s * 1000), 1))
    return bool(claimed)
