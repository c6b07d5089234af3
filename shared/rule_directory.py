"""What the notifier must know of the alerter's rules, kept in Redis rather than on the public topic.

The alerter owns the rules; the notifier routes their alerts. It needs the active rule ids (a
subscription to an unknown rule is refused) and each rule's own ``webhooks:``. Those URLs often
carry a token (chat webhooks put it in the path), so they must not ride on ``alerts``, which any
consumer may read: the alerter writes this directory in Redis, next to the subscriptions and their
secrets, each time its rule set changes, and the notifier reads it when it routes an alert.

One Redis hash, rule id -> ``{"webhooks": [...], "priority": ...}``, replaced whole in one
transaction; every alerter instance writes the same content, so two writing at once agree. A rule
stored or deleted through the API is entered or removed in the same transaction as the store
(``set_in`` / ``remove_in``), so a subscription to it is accepted at once, before any reload tick.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from shared.redis_client import text
from shared.schemas import Priority

KEY = "newsmon:rule_directory"


@dataclass(frozen=True)
class RuleEntry:
    """One active rule as the notifier sees it."""

    rule_id: str
    webhooks: tuple[str, ...] = ()
    priority: Priority = "normal"


class RuleDirectory:
    """The active rules' ids, webhooks and priority in Redis (written by the alerter, read by the notifier)."""

    def __init__(self, redis: Redis, key: str = KEY) -> None:
        self.redis = redis
        self.key = key

    async def replace(self, entries: Iterable[RuleEntry]) -> None:
        """Make the directory hold exactly ``entries``."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key)
            for entry in entries:
                self.set_in(pipe, entry)
            await pipe.execute()

    def set_in(self, pipe: Pipeline, entry: RuleEntry) -> None:
        """Queue, in the caller's transaction, the entry of one rule."""
        pipe.hset(self.key, entry.rule_id, json.dumps({"webhooks": list(entry.webhooks), "priority": entry.priority}))

    def remove_in(self, pipe: Pipeline, rule_id: str) -> None:
        """Queue, in the caller's transaction, the removal of one rule."""
        pipe.hdel(self.key, rule_id)

    async def entries(self) -> dict[str, RuleEntry]:
        """Every active rule by id (empty before an alerter has started)."""
        stored = await self.redis.hgetall(self.key)
        return {text(rule_id): _entry(text(rule_id), raw) for rule_id, raw in stored.items()}

    async def get(self, rule_id: str) -> RuleEntry | None:
        """One rule, or None when no alerter runs it now."""
        raw = await self.redis.hget(self.key, rule_id)
        return None if raw is None else _entry(rule_id, raw)


def _entry(rule_id: str, raw: bytes | str) -> RuleEntry:
    fields = json.loads(raw)
    return RuleEntry(rule_id, tuple(fields.get("webhooks", ())), fields.get("priority", "normal"))
