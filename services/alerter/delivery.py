"""Durable webhook delivery: a Redis queue of (alert, URL) items, so a restart loses nothing.

Keys under ``key_prefix``:

- ``:body:<alert_id>`` the alert JSON, stored once and shared by all its URLs;
- ``:queue`` sorted set of item ids (``<alert_id>:<url hash>``) scored by due time;
- ``:items`` hash of item id -> JSON state (url, attempts, last error) while the item is unfinished;
- ``:done:<alert_id>:<url hash>`` the final outcome (``delivered``, ``failed``, ``gone``, ``refused``),
  kept for days so a redelivered alert queues nothing that was already settled;
- ``:failed`` list of JSON records of deliveries given up on, newest last.

A worker claims a due item with ``ZREM`` (only one worker gets 1) and, in the same Lua script, puts
it back with a lease score in the future: if the worker dies mid-POST the item falls due again
after the lease instead of being lost. Receivers dedupe on ``webhook-id`` (the alert id) for that
rare case, as the Standard Webhooks convention expects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from typing import Literal

import httpx
from prometheus_client import Counter, Histogram
from redis.asyncio import Redis

from newsmon.services.alerter.signing import signed_headers
from newsmon.services.alerter.url_safety import UnsafeWebhookURL, check_webhook_url, redact_url
from newsmon.shared.article_ids import sha256_hex
from newsmon.shared.logs import log_event
from newsmon.shared.schemas import Alert

Outcome = Literal["delivered", "retry", "failed", "gone", "refused"]

DELIVERIES = Counter(
    "newsmon_webhook_deliveries_total", "Webhook delivery attempts, by outcome.", ["outcome"]
)
DELIVERY_SECONDS = Histogram(
    "newsmon_webhook_delivery_seconds", "Time from sending a webhook POST to its response headers.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
logger = logging.getLogger(__name__)

BODY_TTL_S = 3 * 24 * 3600
DONE_TTL_S = 7 * 24 * 3600
REQUEST_TIMEOUT_S = 10.0
LEASE_S = 60.0  # well above the request timeout, so a live worker never loses its claim
MAX_DELAY_S = 3600.0
BATCH = 32
FAILED_KEEP = 10_000
ERROR_PAUSE_S = 2.0

# KEYS: body, items, queue, done keys...; ARGV: body, body ttl, due, (item id, state) per done key.
_ENQUEUE = """
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
local queued = 0
for j = 1, #KEYS - 3 do
  local item = ARGV[2 + 2 * j]
  if redis.call('EXISTS', KEYS[3 + j]) == 0 and redis.call('HSETNX', KEYS[2], item, ARGV[3 + 2 * j]) == 1 then
    redis.call('ZADD', KEYS[3], ARGV[3], item)
    queued = queued + 1
  end
end
if queued > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return queued
"""

# KEYS: queue; ARGV: now, lease deadline, batch size. Returns the item ids this worker now owns.
_CLAIM = """
local claimed = {}
for _, item in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])) do
  if redis.call('ZREM', KEYS[1], item) == 1 then
    redis.call('ZADD', KEYS[1], ARGV[2], item)
    claimed[#claimed + 1] = item
  end
end
return claimed
"""


@dataclass
class _Item:
    """What the queue remembers about one unfinished (alert, URL) delivery."""

    alert_id: str
    url: str
    attempts: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class _Result:
    """How one attempt ended."""

    outcome: Outcome
    status: int | None = None
    error: str | None = None
    retry_after_s: float | None = None
    latency_s: float | None = None


def _item_id(alert_id: str, url: str) -> str:
    """Queue member of one (alert, URL) pair; the hash keeps URL tokens out of key listings."""
    return f"{alert_id}:{sha256_hex(url)[:32]}"


def _text(value: bytes | str) -> str:
    """Redis answers bytes or str depending on the client's ``decode_responses``."""
    return value.decode() if isinstance(value, bytes) else value


def _describe(error: BaseException) -> str:
    """A short error text; httpx's messages do not include the URL."""
    return f"{type(error).__name__}: {error}"[:200] if str(error) else type(error).__name__


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds, when the server gave it in that form."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _classify(response: httpx.Response) -> _Result:
    """Map a receiver's status to what to do next."""
    status = response.status_code
    if 200 <= status < 300:
        return _Result("delivered", status)
    if status == 410:
        return _Result("gone", status, "410 gone")
    if status == 429 or status >= 500:
        hint = _retry_after(response) if status in (429, 503) else None
        return _Result("retry", status, f"HTTP {status}", hint)
    return _Result("failed", status, f"HTTP {status}")


class WebhookDelivery:
    """Queue signed alert webhooks in Redis and deliver them with retries, once per (alert, URL)."""

    def __init__(self, redis: Redis, client: httpx.AsyncClient, *, secret: str | None, allow_private: bool,
                 max_attempts: int, backoff_s: float, key_prefix: str = "newsmon:webhooks") -> None:
        self.redis = redis
        self.client = client
        self.secret = secret
        self.allow_private = allow_private
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.key_prefix = key_prefix
        self.queue_key = f"{key_prefix}:queue"
        self.items_key = f"{key_prefix}:items"
        self.failed_key = f"{key_prefix}:failed"
        self._enqueue = redis.register_script(_ENQUEUE)
        self._claim = redis.register_script(_CLAIM)

    def done_key(self, alert_id: str, url: str) -> str:
        """Where the final outcome of one (alert, URL) delivery is kept."""
        return f"{self.key_prefix}:done:{alert_id}:{sha256_hex(url)[:32]}"

    async def enqueue(self, alert: Alert, urls: list[str]) -> int:
        """Queue the alert for each URL not already pending or settled; returns how many were queued."""
        urls = list(dict.fromkeys(urls))
        if not urls:
            return 0
        item_args: list[str] = []
        for url in urls:
            item_args += [_item_id(alert.alert_id, url), json.dumps(asdict(_Item(alert.alert_id, url)))]
        keys = [f"{self.key_prefix}:body:{alert.alert_id}", self.items_key, self.queue_key,
                *(self.done_key(alert.alert_id, url) for url in urls)]
        args = [alert.model_dump_json(), BODY_TTL_S, time.time(), *item_args]
        return int(await self._enqueue(keys=keys, args=args))

    async def deliver_due(self) -> int:
        """Claim and attempt every due item (up to a batch); returns how many were attempted."""
        now = time.time()
        claimed = [_text(item) for item in await self._claim(keys=[self.queue_key], args=[now, now + LEASE_S, BATCH])]
        results = await asyncio.gather(*(self._attempt(item_id) for item_id in claimed), return_exceptions=True)
        errors = [result for result in results if isinstance(result, Exception)]
        if errors:
            raise errors[0]  # the others' items stay leased and fall due again
        return len(claimed)

    async def run(self, stop: asyncio.Event, poll_s: float = 0.25) -> None:
        """Deliver until ``stop`` is set; a Redis outage pauses delivery, it never ends it."""
        while not stop.is_set():
            pause = poll_s
            try:
                if await self.deliver_due():
                    continue
            except Exception as error:  # any failure: the loop must outlive Redis outages
                log_event(logger, "webhook.queue_error", logging.ERROR, error=_describe(error))
                pause = max(poll_s, ERROR_PAUSE_S)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)

    async def _attempt(self, item_id: str) -> None:
        """One delivery attempt of a claimed item, then record what happened."""
        state = await self.redis.hget(self.items_key, item_id)
        if state is None:  # settled by a worker whose lease had run out
            await self.redis.zrem(self.queue_key, item_id)
            return
        item = _Item(**json.loads(state))
        item.attempts += 1
        body = await self.redis.get(f"{self.key_prefix}:body:{item.alert_id}")
        if body is None:
            result = _Result("failed", error="alert body expired")
        else:
            result = await self._post(item, body if isinstance(body, bytes) else body.encode())
        log_event(logger, "webhook.attempt", logging.INFO if result.outcome == "delivered" else logging.WARNING,
                  alert_id=item.alert_id, url=redact_url(item.url), status=result.status,
                  latency_ms=None if result.latency_s is None else round(result.latency_s * 1000, 1),
                  attempt=item.attempts, outcome=result.outcome, error=result.error)
        await self._settle(item_id, item, result)

    async def _post(self, item: _Item, body: bytes) -> _Result:
        """Check the URL, POST the signed body, and classify the answer (the response body is never read)."""
        try:
            await check_webhook_url(item.url, self.allow_private)
        except UnsafeWebhookURL as error:
            return _Result("refused", error=str(error))
        except OSError as error:  # DNS failure: often transient
            return _Result("retry", error=_describe(error))
        started = time.monotonic()
        try:
            async with self.client.stream(
                "POST", item.url, content=body, headers=signed_headers(self.secret, item.alert_id, body),
                timeout=REQUEST_TIMEOUT_S, follow_redirects=False,
            ) as response:
                result = _classify(response)
        except httpx.TransportError as error:  # timeouts, refused connections, resets
            result = _Result("retry", error=_describe(error))
        except httpx.InvalidURL as error:
            result = _Result("failed", error=_describe(error))
        elapsed = time.monotonic() - started
        DELIVERY_SECONDS.observe(elapsed)
        return replace(result, latency_s=elapsed)

    async def _settle(self, item_id: str, item: _Item, result: _Result) -> None:
        """Reschedule, or record the final outcome and forget the item, in one transaction."""
        outcome = result.outcome
        if outcome == "retry" and item.attempts >= self.max_attempts:
            outcome = "failed"
        async with self.redis.pipeline(transaction=True) as pipe:
            if outcome == "retry":
                item.last_error = result.error
                pipe.hset(self.items_key, item_id, json.dumps(asdict(item)))
                pipe.zadd(self.queue_key, {item_id: time.time() + self._delay(item.attempts, result.retry_after_s)})
            else:
                pipe.set(self.done_key(item.alert_id, item.url), outcome, ex=DONE_TTL_S)
                pipe.hdel(self.items_key, item_id)
                pipe.zrem(self.queue_key, item_id)
                if outcome != "delivered":
                    pipe.rpush(self.failed_key, json.dumps(self._failure(item, outcome, result.error)))
                    pipe.ltrim(self.failed_key, -FAILED_KEEP, -1)
            await pipe.execute()
        DELIVERIES.labels(outcome).inc()
        if outcome not in ("delivered", "retry"):
            log_event(logger, "webhook.given_up", logging.WARNING, alert_id=item.alert_id,
                      url=redact_url(item.url), outcome=outcome, attempts=item.attempts, error=result.error)

    def _delay(self, attempts: int, retry_after_s: float | None) -> float:
        """Seconds until the next try: the server's Retry-After, else full-jitter exponential backoff."""
        if retry_after_s is not None:
            return min(retry_after_s, MAX_DELAY_S)
        return random.uniform(0, min(self.backoff_s * 2 ** min(attempts - 1, 30), MAX_DELAY_S))

    @staticmethod
    def _failure(item: _Item, outcome: Outcome, error: str | None) -> dict[str, object]:
        """The record kept in the failed list; the URL loses its query string, which may hold a token."""
        return {
            "alert_id": item.alert_id,
            "url": redact_url(item.url),
            "outcome": outcome,
            "attempts": item.attempts,
            "last_error": error,
            "failed_at": datetime.now(timezone.utc).isoformat(),
        }
