"""The durable webhook queue in Redis: (message, target) items, so a restart loses nothing.

A target is a URL signed with the configured secret (``NEWSMON_WEBHOOK_URLS``, a rule's
``webhooks``) or a subscription, signed with the subscription's own secret, looked up by id when
the item is sent: no secret is ever stored in an item, a failure record or a log.

Keys under ``key_prefix``:

- ``:body:<message id>`` the message JSON (an alert, or a test event), stored once for all targets;
- ``:queue`` sorted set of item ids (``<message id>:<target key>``) scored by due time;
- ``:items`` hash of item id -> JSON state (url, subscription id, attempts, last error) while unfinished;
- ``:done:<message id>:<target key>`` the final outcome (``delivered``, ``failed``, ``gone``, ...),
  kept for days so a redelivered alert queues nothing that was already settled;
- ``:failed`` list of JSON records of deliveries given up on, newest last (``newsmon deliveries``);
- ``:silenced`` list of JSON records of (message, subscription) pairs a silence held back, newest last.

A worker claims due items in one Lua script (``queue_scripts.py``), which puts each back with a lease score in the
future: if the worker dies mid-POST the item falls due again after the lease instead of being
lost. Receivers dedupe on ``webhook-id`` for that rare case, as the Standard Webhooks convention
expects. The claim knows destinations (scheme, host and port of the item's URL): it takes at most
the free slots the worker has for each, skipping the items of a full destination without touching
them, so a receiver that holds its slots never keeps other receivers' items from being claimed.

Enqueuing sets ``wake``, so a delivery loop in the same process starts at once instead of
at its next poll.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from redis.asyncio import Redis

from services.notifier.webhooks.queue_scripts import CLAIM, CLAIM_SCAN, ENQUEUE, REQUEUE, SILENCE
from services.notifier.webhooks.url_safety import redact_url
from shared.article_ids import sha256_hex
from shared.redis_client import text
from shared.schemas import Alert

Outcome = Literal["delivered", "retry", "failed", "gone", "refused", "disabled", "cancelled"]
# Final outcomes worth a person's attention, kept in the failed list for replay.
KEPT_OUTCOMES = frozenset({"failed", "gone", "refused", "disabled"})

BODY_TTL_S = 3 * 24 * 3600
FAILED_BODY_TTL_S = 14 * 24 * 3600  # how long `newsmon deliveries replay` can still send a failed message
DONE_TTL_S = 7 * 24 * 3600
FAILED_KEEP = 10_000

@dataclass(frozen=True)
class Target:
    """Where one message goes: a URL, and the subscription whose secret signs it (None: the configured one)."""

    url: str
    subscription_id: str | None = None

    @property
    def key(self) -> str:
        """Names the target in Redis keys; a URL is hashed, which keeps tokens out of key listings."""
        return f"sub:{self.subscription_id}" if self.subscription_id else sha256_hex(self.url)[:32]


@dataclass
class Item:
    """What the queue remembers about one unfinished (message, target) delivery."""

    alert_id: str  # the message id, sent as ``webhook-id``
    url: str
    subscription_id: str | None = None
    attempts: int = 0
    last_error: str | None = None
    queued_at: float = field(default_factory=time.time)

    @property
    def target(self) -> Target:
        return Target(self.url, self.subscription_id)


@dataclass(frozen=True)
class ReplayReport:
    """What ``replay_failed`` did with the failed list."""

    replayed: int = 0
    unknown_target: int = 0
    expired: int = 0


def _as_target(target: Target | str) -> Target:
    return target if isinstance(target, Target) else Target(target)


class DeliveryQueue:
    """The Redis side of webhook delivery: enqueue once per (message, target), claim, settle, replay."""

    def __init__(self, redis: Redis, key_prefix: str = "newsmon:webhooks") -> None:
        self.redis = redis
        self.key_prefix = key_prefix
        self.queue_key = f"{key_prefix}:queue"
        self.items_key = f"{key_prefix}:items"
        self.failed_key = f"{key_prefix}:failed"
        self.silenced_key = f"{key_prefix}:silenced"
        self._enqueue = redis.register_script(ENQUEUE)
        self._claim = redis.register_script(CLAIM)
        self._requeue = redis.register_script(REQUEUE)
        self._silence = redis.register_script(SILENCE)
        # Set when items are queued (or a delivery slot frees up): the delivery loop claims at once.
        self.wake = asyncio.Event()

    def body_key(self, message_id: str) -> str:
        return f"{self.key_prefix}:body:{message_id}"

    def item_id(self, message_id: str, target: Target | str) -> str:
        return f"{message_id}:{_as_target(target).key}"

    def done_key(self, message_id: str, target: Target | str) -> str:
        """Where the final outcome of one (message, target) delivery is kept."""
        return f"{self.key_prefix}:done:{self.item_id(message_id, target)}"

    async def enqueue(self, alert: Alert, targets: Sequence[Target | str]) -> int:
        """Queue the alert for each target not already pending or settled; returns how many were queued."""
        return await self.enqueue_message(alert.alert_id, alert.model_dump_json(), targets)

    async def enqueue_message(self, message_id: str, body: str, targets: Sequence[Target | str]) -> int:
        """Queue any JSON message (alerts, test events) under its ``webhook-id``."""
        unique = list(dict.fromkeys(_as_target(target) for target in targets))
        if not unique:
            return 0
        item_args: list[str] = []
        for target in unique:
            state = Item(message_id, target.url, target.subscription_id)
            item_args += [self.item_id(message_id, target), json.dumps(asdict(state))]
        keys = [self.body_key(message_id), self.items_key, self.queue_key,
                *(self.done_key(message_id, target) for target in unique)]
        queued = int(await self._enqueue(keys=keys, args=[body, BODY_TTL_S, time.time(), *item_args]))
        if queued:
            self.wake.set()
        return queued

    async def record_silenced(self, message_id: str, target: Target, silence_id: str) -> bool:
        """Record that a silence held this (message, target) back, so it is never sent; False if already settled."""
        record = {"alert_id": message_id, "target": target.key, "subscription_id": target.subscription_id,
                  "url": redact_url(target.url), "outcome": "silenced", "silence_id": silence_id,
                  "silenced_at": datetime.now(timezone.utc).isoformat()}
        return bool(await self._silence(keys=[self.done_key(message_id, target), self.silenced_key],
                                        args=[json.dumps(record), DONE_TTL_S, FAILED_KEEP]))

    async def silenced(self) -> list[dict[str, Any]]:
        """The silenced list, oldest first."""
        return [json.loads(raw) for raw in await self.redis.lrange(self.silenced_key, 0, -1)]

    async def claim(self, now: float, lease_s: float, batch: int, free: Mapping[str, int] | None = None,
                    unlisted_free: int | None = None, held: Collection[str] = ()) -> list[tuple[str, str]]:
        """(item id, destination) of items due now, leased to this worker until ``now + lease_s``.

        At most ``batch`` items, and for each destination at most its ``free`` slots
        (``unlisted_free``, by default ``batch``, for a destination not in ``free``); the items of a
        destination without free slots, and the ``held`` items (attempts of this worker still
        finishing), stay as they are in the queue.
        """
        slots = [part for destination, count in (free or {}).items() for part in (destination, count)]
        reply = await self._claim(keys=[self.queue_key, self.items_key], args=[
            now, now + lease_s, batch, CLAIM_SCAN, batch if unlisted_free is None else unlisted_free, len(held),
            *held, *slots])
        flat = [text(part) for part in reply]
        return list(zip(flat[::2], flat[1::2], strict=True))

    async def seconds_to_next_due(self, now: float) -> float | None:
        """Seconds from ``now`` until the earliest item falls due (a claimed one: its lease ends; negative when
        overdue); None when the queue is empty."""
        first = await self.redis.zrange(self.queue_key, 0, 0, withscores=True)
        return float(first[0][1]) - now if first else None

    async def load(self, item_id: str) -> tuple[Item, bytes | None] | None:
        """A claimed item and its message body (None when expired); None when another worker settled it."""
        state = await self.redis.hget(self.items_key, item_id)
        if state is None:
            await self.redis.zrem(self.queue_key, item_id)
            return None
        item = Item(**json.loads(state))
        body = await self.redis.get(self.body_key(item.alert_id))
        return item, (body.encode() if isinstance(body, str) else body)

    async def reschedule(self, item_id: str, item: Item, due: float) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.items_key, item_id, json.dumps(asdict(item)))
            pipe.zadd(self.queue_key, {item_id: due})
            await pipe.execute()

    async def settle(self, item_id: str, item: Item, outcome: Outcome, error: str | None) -> None:
        """Record the final outcome and forget the item, in one transaction; failures are kept for replay."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.done_key(item.alert_id, item.target), outcome, ex=DONE_TTL_S)
            pipe.hdel(self.items_key, item_id)
            pipe.zrem(self.queue_key, item_id)
            if outcome in KEPT_OUTCOMES:
                pipe.rpush(self.failed_key, json.dumps(self._failure(item, outcome, error)))
                pipe.ltrim(self.failed_key, -FAILED_KEEP, -1)
                pipe.expire(self.body_key(item.alert_id), FAILED_BODY_TTL_S)
            await pipe.execute()

    async def failures(self) -> list[dict[str, Any]]:
        """The failed list, oldest first."""
        return [json.loads(raw) for raw in await self.redis.lrange(self.failed_key, 0, -1)]

    async def replay_failed(self, resolve: Callable[[dict[str, Any]], Awaitable[Target | None]]) -> ReplayReport:
        """Queue every failed delivery again, with fresh attempts, and take it off the failed list.

        ``resolve`` turns a record into its target as configured now (None: the URL is no longer
        configured or the subscription is gone or disabled); such records, and those whose message
        has expired, stay in the list.
        """
        replayed = unknown = expired = 0
        for raw in await self.redis.lrange(self.failed_key, 0, -1):
            record = json.loads(raw)
            target = await resolve(record)
            if target is None:
                unknown += 1
                continue
            if not await self.redis.exists(self.body_key(record["alert_id"])):
                expired += 1
                continue
            if not await self.redis.lrem(self.failed_key, 1, text(raw)):
                continue  # another replay took it
            item_id = self.item_id(record["alert_id"], target)
            state = json.dumps(asdict(Item(record["alert_id"], target.url, target.subscription_id)))
            keys = [self.body_key(record["alert_id"]), self.items_key, self.queue_key,
                    self.done_key(record["alert_id"], target)]
            if await self._requeue(keys=keys, args=[item_id, state, time.time()]):
                replayed += 1
                self.wake.set()
            else:
                await self.redis.rpush(self.failed_key, raw)
                expired += 1
        return ReplayReport(replayed, unknown, expired)

    @staticmethod
    def _failure(item: Item, outcome: Outcome, error: str | None) -> dict[str, Any]:
        """The record kept in the failed list; the URL loses its query string, which may hold a token."""
        return {
            "alert_id": item.alert_id,
            "target": item.target.key,
            "subscription_id": item.subscription_id,
            "url": redact_url(item.url),
            "outcome": outcome,
            "attempts": item.attempts,
            "last_error": error,
            "failed_at": datetime.now(timezone.utc).isoformat(),
        }
