"""Webhook delivery workers: signed POSTs from the durable queue, retried until a horizon, once per target.

Each attempt is logged with status and latency, and each delivered alert records the time from its
article's fetch to the receiver's 2xx. Timeouts, connection errors, 429 and 5xx are retried with
exponential backoff and jitter (a 429/503 ``Retry-After`` wins) until ``max_attempts`` or the
retry horizon; ``410 Gone`` stops delivery to that target and disables its subscription; other
statuses fail at once. The queue itself is ``delivery_queue.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from dataclasses import dataclass, replace
from datetime import datetime

import httpx
from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from services.alerter.metrics import (
    DELIVERED_LATENCY,
    DELIVERIES,
    DELIVERY_SECONDS,
    SUBSCRIPTIONS_DISABLED,
)
from services.alerter.webhooks.queue import DeliveryQueue, Item, Outcome
from services.alerter.webhooks.signing import signed_headers
from services.alerter.webhooks.subscriptions import SubscriptionStore
from services.alerter.webhooks.url_safety import UnsafeWebhookURL, check_webhook_url, redact_url
from shared.address_guard import UnsafeAddress
from shared.logs import log_event

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_S = 10.0
LEASE_S = 60.0  # well above the request timeout, so a live worker never loses its claim
MAX_DELAY_S = 3600.0
BATCH = 32
ERROR_PAUSE_S = 2.0
DEFAULT_HORIZON_S = 24 * 3600.0


@dataclass(frozen=True)
class _Result:
    """How one attempt ended."""

    outcome: Outcome
    status: int | None = None
    error: str | None = None
    retry_after_s: float | None = None
    latency_s: float | None = None


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


class _FetchTime(BaseModel):
    """The one field of a queued message that fetch-to-delivery latency needs; test events lack it."""

    fetched_at: datetime | None = None


def fetch_to_delivery_s(body: bytes, delivered_at: float) -> float | None:
    """Seconds from the fetch of the alert's article to ``delivered_at`` (epoch); None without ``fetched_at``."""
    try:
        fetched_at = _FetchTime.model_validate_json(body).fetched_at
    except ValidationError:  # a metric must never fail a delivery that already succeeded
        return None
    return None if fetched_at is None else delivered_at - fetched_at.timestamp()


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


class WebhookDelivery(DeliveryQueue):
    """Deliver queued webhooks: each message once per target, signed with the target's secret."""

    def __init__(self, redis: Redis, client: httpx.AsyncClient, *, secret: str | None, allow_private: bool,
                 max_attempts: int, backoff_s: float, key_prefix: str = "newsmon:webhooks",
                 subscriptions: SubscriptionStore | None = None, horizon_s: float = DEFAULT_HORIZON_S) -> None:
        super().__init__(redis, key_prefix)
        self.client = client
        self.secret = secret
        self.allow_private = allow_private
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.horizon_s = horizon_s
        self.subscriptions = subscriptions

    async def deliver_due(self) -> int:
        """Claim and attempt every due item (up to a batch); returns how many were attempted."""
        claimed = await self.claim(time.time(), LEASE_S, BATCH)
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
        loaded = await self.load(item_id)
        if loaded is None:  # settled by a worker whose lease had run out
            return
        item, body = loaded
        item.attempts += 1
        secret, refusal = await self._secret_for(item)
        if refusal is not None:
            result = refusal
        elif body is None:
            result = _Result("failed", error="message body expired")
        else:
            result = await self._post(item, body, secret)
            if result.outcome == "delivered" and (latency := fetch_to_delivery_s(body, time.time())) is not None:
                DELIVERED_LATENCY.observe(latency)
        log_event(logger, "webhook.attempt", logging.INFO if result.outcome == "delivered" else logging.WARNING,
                  alert_id=item.alert_id, url=redact_url(item.url), subscription_id=item.subscription_id,
                  status=result.status, attempt=item.attempts, outcome=result.outcome, error=result.error,
                  latency_ms=None if result.latency_s is None else round(result.latency_s * 1000, 1))
        await self._record(item_id, item, result)

    async def _secret_for(self, item: Item) -> tuple[str | None, _Result | None]:
        """The secret to sign with, or why the item must not be sent (subscription deleted or disabled)."""
        if item.subscription_id is None:
            return self.secret, None
        subscription = await self.subscriptions.get(item.subscription_id) if self.subscriptions else None
        if subscription is None:
            return None, _Result("cancelled", error="subscription deleted")
        if not subscription.active:
            return None, _Result("disabled", error=f"subscription disabled: {subscription.disabled_reason}")
        return subscription.secret, None

    async def _post(self, item: Item, body: bytes, secret: str | None) -> _Result:
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
                "POST", item.url, content=body, headers=signed_headers(secret, item.alert_id, body),
                timeout=REQUEST_TIMEOUT_S, follow_redirects=False,
            ) as response:
                result = _classify(response)
        except UnsafeAddress as error:  # the client's guard, as it connected: the host now resolves inside
            result = _Result("refused", error=str(error))
        except httpx.TransportError as error:  # timeouts, refused connections, resets
            result = _Result("retry", error=_describe(error))
        except httpx.InvalidURL as error:
            result = _Result("failed", error=_describe(error))
        elapsed = time.monotonic() - started
        DELIVERY_SECONDS.observe(elapsed)
        return replace(result, latency_s=elapsed)

    async def _record(self, item_id: str, item: Item, result: _Result) -> None:
        """Reschedule a retry within the limits, or settle the final outcome."""
        outcome = result.outcome
        if outcome == "retry":
            due = time.time() + self._delay(item.attempts, result.retry_after_s)
            if item.attempts < self.max_attempts and due <= item.queued_at + self.horizon_s:
                item.last_error = result.error
                await self.reschedule(item_id, item, due)
                DELIVERIES.labels("retry").inc()
                return
            outcome = "failed"
        if outcome == "gone" and item.subscription_id and self.subscriptions:
            await self._disable(item)  # first: once the outcome is recorded, the subscription is disabled
        await self.settle(item_id, item, outcome, result.error)
        DELIVERIES.labels(outcome).inc()
        if outcome not in ("delivered", "cancelled"):
            log_event(logger, "webhook.given_up", logging.WARNING, alert_id=item.alert_id,
                      url=redact_url(item.url), subscription_id=item.subscription_id, outcome=outcome,
                      attempts=item.attempts, error=result.error)

    async def _disable(self, item: Item) -> None:
        """A receiver that answered 410 wants nothing more: its subscription stops receiving."""
        assert self.subscriptions is not None and item.subscription_id is not None
        if await self.subscriptions.disable(item.subscription_id, f"receiver answered 410 Gone to {item.alert_id}"):
            SUBSCRIPTIONS_DISABLED.inc()
            log_event(logger, "subscription.disabled", logging.WARNING, subscription_id=item.subscription_id,
                      url=redact_url(item.url), reason="410 Gone")

    def _delay(self, attempts: int, retry_after_s: float | None) -> float:
        """Seconds until the next try: the server's Retry-After, else exponential backoff with jitter.

        Half the backoff is fixed and half random ("equal jitter"), so retries of many items spread
        out while the schedule still reaches the horizon in a predictable number of attempts.
        """
        if retry_after_s is not None:
            return min(retry_after_s, MAX_DELAY_S)
        backoff = min(self.backoff_s * 2.0 ** min(attempts - 1, 30), MAX_DELAY_S)
        return backoff / 2 + random.uniform(0, backoff / 2)
