"""Delivery workers: each queued message, in its target's format, retried until a horizon, once per target.

One attempt (render, POST or mail, within one deadline) is ``sending.py``. Attempts run side
by side, at most ``per_destination`` to one receiver and ``max_in_flight`` in all, and the loop
claims an item as soon as a slot is free for it: a receiver that hangs holds only its own slots,
and every other receiver's deliveries go on. An item is claimed only when its attempt can start
at once, and the lease is several deadlines long, so a lease never runs out under an attempt in
flight. A webhook queued by this process is picked up at once (the queue's ``wake``), not at the
next poll, and a retry at its due time: with nothing due, the loop sleeps until the earliest item in
the queue falls due (``IDLE_POLL_S`` at most, for items another process queued, such as
``newsmon deliveries replay``), so a quiet notifier does not wake four times a second to find
nothing.

Timeouts, connection errors, 429 and 5xx are retried on ``scheduling.RetrySchedule`` (a 429/503
``Retry-After`` is honoured, never below the schedule's minimum) until ``max_attempts`` or the
retry horizon; ``410 Gone`` stops delivery to that target and disables its subscription; other
statuses fail at once. Each attempt is logged with status and latency, and each delivered alert
records the time from its article's fetch to the receiver's 2xx. A Redis outage pauses the loop;
an attempt whose POST went out is recorded once Redis is back, never sent again because of it.
The queue itself is ``queue.py``; what a receiver's answer means is ``attempt_results.py``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

import httpx
from pydantic import BaseModel, ValidationError
from redis.asyncio import Redis

from services.notifier.channels.smtp import SmtpSettings
from services.notifier.metrics import DELIVERED_LATENCY, DELIVERIES, NOTIFICATIONS, SUBSCRIPTIONS_DISABLED
from services.notifier.webhooks.attempt_results import AttemptResult, describe_attempt_error
from services.notifier.webhooks.queue import DeliveryQueue, Item
from services.notifier.webhooks.scheduling import DestinationSlots, RetrySchedule
from services.notifier.webhooks.sending import DEFAULT_ATTEMPT_DEADLINE_S, Destination, Sender
from services.notifier.webhooks.subscriptions import Format, SubscriptionStore
from services.notifier.webhooks.url_safety import redact_url
from shared.failure_policy import Backoff, retry_transient
from shared.logs import log_event

logger = logging.getLogger(__name__)

DEFAULT_PER_DESTINATION = 4
MAX_IN_FLIGHT = 64
MIN_LEASE_S = 60.0
# A lease lasts this many attempt deadlines: an attempt starts when claimed and ends by its deadline,
# so only a process that died (or a Redis outage longer than this) lets a lease run out.
LEASE_DEADLINES = 6
SHUTDOWN_GRACE_S = 2.0
# The longest the loop sleeps with nothing due: how late an item queued by another process may start.
IDLE_POLL_S = 5.0
DEFAULT_HORIZON_S = 24 * 3600.0


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


class WebhookDelivery(DeliveryQueue):
    """Deliver queued webhooks: each message once per target, signed with the target's secret."""

    def __init__(self, redis: Redis, client: httpx.AsyncClient, *, secret: str | None, allow_private: bool,
                 max_attempts: int, backoff_s: float, key_prefix: str = "newsmon:webhooks",
                 subscriptions: SubscriptionStore | None = None, horizon_s: float = DEFAULT_HORIZON_S,
                 attempt_deadline_s: float = DEFAULT_ATTEMPT_DEADLINE_S, per_destination: int = DEFAULT_PER_DESTINATION,
                 max_in_flight: int = MAX_IN_FLIGHT, smtp: SmtpSettings | None = None,
                 public_url: str | None = None) -> None:
        super().__init__(redis, key_prefix)
        self.sender = Sender(client, allow_private=allow_private, attempt_deadline_s=attempt_deadline_s, smtp=smtp,
                             public_url=public_url)
        self.secret = secret
        self.max_attempts = max_attempts
        self.schedule = RetrySchedule(backoff_s)
        self.horizon_s = horizon_s
        self.subscriptions = subscriptions
        self.lease_s = max(MIN_LEASE_S, LEASE_DEADLINES * attempt_deadline_s)
        self.slots = DestinationSlots(per_destination, max_in_flight)
        self._in_flight: dict[str, asyncio.Task[None]] = {}  # item id -> its attempt

    async def deliver_due(self) -> int:
        """Start every due item a slot is free for, and wait for those attempts; how many were started."""
        started = await self.start_due()
        if started:
            await asyncio.wait(started)
        return len(started)

    async def start_due(self) -> list[asyncio.Task[None]]:
        """Claim the due items the free slots allow and start their attempts, without waiting for them."""
        room = self.slots.room()
        if room == 0:
            return []
        claimed = await self.claim(time.time(), self.lease_s, room, self.slots.free(), self.slots.per_destination,
                                   held=list(self._in_flight))
        started = []
        for item_id, destination in claimed:
            self.slots.take(destination)
            task = asyncio.create_task(self._attempt_in_slot(item_id, destination))
            self._in_flight[item_id] = task
            started.append(task)
        return started

    async def run(self, stop: asyncio.Event, poll_s: float = 0.25, idle_s: float = IDLE_POLL_S) -> None:
        """Deliver until ``stop`` is set; a Redis outage pauses delivery, it never ends it.

        Between looks at the queue the loop waits ``poll_s`` while items are due (their receivers' slots
        are full), else until the earliest item falls due, ``idle_s`` at most; a ``wake`` ends any wait.
        """
        backoff = Backoff(first_s=max(poll_s, 0.5))
        try:
            while not stop.is_set():
                self.wake.clear()
                pause = poll_s
                try:
                    await self.start_due()
                    due_in = await self.seconds_to_next_due(time.time())
                    pause = idle_s if due_in is None else min(idle_s, max(poll_s, due_in))
                    backoff.reset()
                except Exception as error:  # any failure: the loop must outlive Redis outages
                    log_event(logger, "webhook.queue_error", logging.ERROR, error=describe_attempt_error(error))
                    pause = max(poll_s, backoff.next_delay())
                await _until_set(pause, stop, self.wake)
        finally:
            await self._finish_in_flight(SHUTDOWN_GRACE_S if stop.is_set() else 0.0)

    async def _finish_in_flight(self, grace_s: float) -> None:
        """Give attempts in flight ``grace_s`` to end, then cancel the rest (their items fall due after the lease)."""
        tasks = list(self._in_flight.values())
        if tasks and grace_s > 0:
            await asyncio.wait(tasks, timeout=grace_s)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _attempt_in_slot(self, item_id: str, destination: str) -> None:
        try:
            await self._attempt(item_id)
        except Exception as error:  # the item stays leased, and falls due again when the lease ends
            log_event(logger, "webhook.attempt_error", logging.ERROR, item_id=item_id,
                      error=describe_attempt_error(error))
        finally:
            self.slots.release(destination)
            del self._in_flight[item_id]
            self.wake.set()

    async def _attempt(self, item_id: str) -> None:
        """One delivery attempt of a claimed item, then record what happened.

        The Redis steps wait out an outage (capped backoff) while the item stays claimed, so a POST
        that went out is recorded once Redis is back rather than sent again.
        """
        loaded = await retry_transient(lambda: self.load(item_id), "webhook.load", item_id=item_id)
        if loaded is None:  # settled by a worker whose lease had run out
            return
        item, body = loaded
        item.attempts += 1
        destination, refusal = await retry_transient(lambda: self._destination(item), "webhook.subscription",
                                                     alert_id=item.alert_id)
        if refusal is not None:
            result = refusal
        elif body is None:
            result = AttemptResult("failed", error="message body expired")
        else:
            result = await self.sender.send(item, body, destination)
            if result.outcome == "delivered" and (latency := fetch_to_delivery_s(body, time.time())) is not None:
                DELIVERED_LATENCY.observe(latency)
        log_event(logger, "webhook.attempt", logging.INFO if result.outcome == "delivered" else logging.WARNING,
                  alert_id=item.alert_id, url=redact_url(item.url), subscription_id=item.subscription_id,
                  format=destination.format, status=result.status, attempt=item.attempts, outcome=result.outcome,
                  error=result.error,
                  latency_ms=None if result.latency_s is None else round(result.latency_s * 1000, 1))
        await retry_transient(lambda: self._record(item_id, item, result, destination.format), "webhook.record",
                              alert_id=item.alert_id)

    async def _destination(self, item: Item) -> tuple[Destination, AttemptResult | None]:
        """How to send the item (format, signing secret), or why it must not be sent (subscription deleted
        or disabled)."""
        if item.subscription_id is None:
            return Destination(self.secret), None
        subscription = await self.subscriptions.get(item.subscription_id) if self.subscriptions else None
        if subscription is None:
            return Destination(None), AttemptResult("cancelled", error="subscription deleted")
        destination = Destination(subscription.secret, subscription.format)
        if not subscription.active:
            reason = f"subscription disabled: {subscription.disabled_reason}"
            return destination, AttemptResult("disabled", error=reason)
        return destination, None

    async def _record(self, item_id: str, item: Item, result: AttemptResult, fmt: Format = "standard") -> None:
        """Reschedule a retry within the limits, or settle the final outcome."""
        outcome = result.outcome
        if outcome == "retry":
            due = time.time() + self.schedule.delay(item.attempts, result.retry_after_s)
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
        NOTIFICATIONS.labels(fmt, outcome).inc()
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


async def _until_set(timeout_s: float, *events: asyncio.Event) -> None:
    """Return when one of ``events`` is set, or after ``timeout_s``."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
