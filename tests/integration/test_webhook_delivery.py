"""Webhook delivery against a real redis-server and a local receiver: once, signed, retried, given up.

Each test uses its own key prefix and receiver path, so tests share the servers but no state.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
from aiohttp import web
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from newsmon.embedded import free_port, start_redis
from services.notifier.webhooks.delivery import WebhookDelivery
from services.notifier.webhooks.queue import Target
from services.notifier.webhooks.subscriptions import Subscription, SubscriptionStore, new_subscription_id
from services.notifier.webhooks.url_safety import redact_url
from shared.schemas import Alert, MatchedSentence
from tests.integration.receiver import signature_valid
from tests.waiting import wait_until_async

T = TypeVar("T")
SECRET = "whsec_" + base64.b64encode(b"integration-secret").decode()


@dataclass
class Hit:
    headers: dict[str, str]
    body: bytes
    status: int
    signed: bool
    at: float


@dataclass
class Receiver:
    """Answers each path by its plan (some statuses first, then one forever) and records every POST.

    A path in ``holds`` keeps each request waiting until its event is set, like a receiver that hangs.
    """

    base: str = ""
    plans: dict[str, tuple[deque[int], int, dict[str, str]]] = field(default_factory=dict)
    hits: dict[str, list[Hit]] = field(default_factory=dict)
    holds: dict[str, asyncio.Event] = field(default_factory=dict)
    waiting: int = 0
    most_waiting: int = 0

    def endpoint(self, *first: int, then: int = 200, headers: dict[str, str] | None = None) -> str:
        path = f"/hook/{uuid.uuid4().hex}"
        self.plans[path] = (deque(first), then, headers or {})
        return self.base + path

    def hits_for(self, url: str) -> list[Hit]:
        return self.hits.get(url.removeprefix(self.base), [])

    def hanging_endpoint(self, release: asyncio.Event) -> str:
        url = self.endpoint()
        self.holds[url.removeprefix(self.base)] = release
        return url

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if (release := self.holds.get(request.path)) is not None:
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
            try:
                await release.wait()
            finally:
                self.waiting -= 1
        first, then, answer_headers = self.plans.get(request.path, (deque(), 404, {}))
        status = first.popleft() if first else then
        headers = {key.lower(): value for key, value in request.headers.items()}
        hit = Hit(headers, body, status, signature_valid(SECRET, headers, body), time.monotonic())
        self.hits.setdefault(request.path, []).append(hit)
        return web.Response(status=status, headers=answer_headers if status != 200 else {})


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    root = tmp_path_factory.mktemp("webhook-redis")
    server = start_redis(port, root / "data", root / "logs")
    yield port
    server.stop()


@pytest.fixture(scope="module")
async def redis(redis_port: int) -> AsyncIterator[Redis]:
    client = Redis.from_url(f"redis://127.0.0.1:{redis_port}/0")
    yield client
    await client.aclose()


async def serve(receiver: Receiver, port: int = 0) -> web.AppRunner:
    """Serve the receiver on 127.0.0.1 (a free port when 0) and set its base URL."""
    app = web.Application()
    app.router.add_post("/hook/{name}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    host, bound = runner.addresses[0][:2]
    receiver.base = f"http://{host}:{bound}"
    return runner


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    runner = await serve(receiver)
    yield receiver
    await runner.cleanup()


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(follow_redirects=False) as client:
        yield client


Workers = Callable[..., WebhookDelivery]


@pytest.fixture
async def workers(redis: Redis, http: httpx.AsyncClient) -> AsyncIterator[Workers]:
    """Start delivery workers on a fresh key prefix; ``count`` workers share one queue."""
    prefix = f"test:webhooks:{uuid.uuid4().hex}"
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    def start(count: int = 1, *, allow_private: bool = True, max_attempts: int = 5,
              redis_client: Redis | None = None, subscriptions: SubscriptionStore | None = None,
              backoff_s: float = 0.01, poll_s: float = 0.01, idle_s: float = 0.01,
              **options: Any) -> WebhookDelivery:
        deliveries = [
            WebhookDelivery(redis_client or redis, http, secret=SECRET, allow_private=allow_private,
                            max_attempts=max_attempts, backoff_s=backoff_s, key_prefix=prefix,
                            subscriptions=subscriptions, **options)
            for _ in range(count)
        ]
        tasks.extend(asyncio.create_task(delivery.run(stop, poll_s=poll_s, idle_s=idle_s)) for delivery in deliveries)
        return deliveries[0]

    yield start
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)


def make_alert() -> Alert:
    tag = uuid.uuid4().hex
    return Alert(alert_id=f"alert-{tag}", rule_id="iran-sanctions", rule_name="Iran sanctions",
                 article_id=f"article-{tag}", story_id=f"article-{tag}", title="New sanctions on Iran",
                 source="https://example.org/feed",
                 sentences=[MatchedSentence(text="The EU imposed sanctions on Iran.", start=0, end=33)])


async def settled(redis: Redis, delivery: WebhookDelivery, alert: Alert, url: str) -> str:
    """Wait for the final outcome of one (alert, URL) delivery."""
    async def outcome() -> str | None:
        value = await redis.get(delivery.done_key(alert.alert_id, url))
        return value.decode() if isinstance(value, bytes) else value

    return await wait_until_async(outcome, 10, f"delivery of {alert.alert_id}")


async def nothing_pending(redis: Redis, delivery: WebhookDelivery) -> bool:
    return await redis.zcard(delivery.queue_key) == 0 and await redis.hlen(delivery.items_key) == 0


async def failures(redis: Redis, delivery: WebhookDelivery) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in await redis.lrange(delivery.failed_key, 0, -1)]


def outcome_count(outcome: str) -> float:
    return REGISTRY.get_sample_value("newsmon_webhook_deliveries_total", {"outcome": outcome}) or 0.0


async def test_an_alert_is_delivered_once_with_a_valid_signature(
    redis: Redis, receiver: Receiver, workers: Workers
) -> None:
    delivery = workers()
    alert, url = make_alert(), receiver.endpoint()

    assert await delivery.enqueue(alert, [url]) == 1
    assert await settled(redis, delivery, alert, url) == "delivered"

    [hit] = receiver.hits_for(url)
    assert hit.signed and hit.status == 200
    assert hit.headers["webhook-id"] == alert.alert_id
    assert hit.headers["content-type"] == "application/json"
    assert Alert.model_validate_json(hit.body) == alert
    assert await nothing_pending(redis, delivery)
    assert await delivery.enqueue(alert, [url]) == 0, "a redelivered alert must not be sent again"


async def test_enqueuing_twice_posts_once_even_with_competing_workers(
    redis: Redis, receiver: Receiver, workers: Workers
) -> None:
    delivery = workers(count=3)
    url = receiver.endpoint()
    alerts = [make_alert() for _ in range(20)]

    for alert in alerts:
        assert await delivery.enqueue(alert, [url, url]) == 1
        assert await delivery.enqueue(alert, [url]) == 0
    for alert in alerts:
        assert await settled(redis, delivery, alert, url) == "delivered"

    ids = sorted(hit.headers["webhook-id"] for hit in receiver.hits_for(url))
    assert ids == sorted(alert.alert_id for alert in alerts)
    assert await redis.exists(f"{delivery.key_prefix}:body:{alerts[0].alert_id}")


async def test_503_is_retried_until_delivered_exactly_once(
    redis: Redis, receiver: Receiver, workers: Workers
) -> None:
    delivery = workers(max_attempts=5)
    alert, url = make_alert(), receiver.endpoint(503, 503, then=200)
    retries, delivered = outcome_count("retry"), outcome_count("delivered")

    await delivery.enqueue(alert, [url])
    assert await settled(redis, delivery, alert, url) == "delivered"

    hits = receiver.hits_for(url)
    assert [hit.status for hit in hits] == [503, 503, 200]
    assert all(hit.signed and hit.headers["webhook-id"] == alert.alert_id for hit in hits)

    async def counted() -> bool | None:  # the counter moves just after the outcome is stored
        return outcome_count("delivered") - delivered == 1 or None

    await wait_until_async(counted, 10, "the delivered counter")
    assert outcome_count("retry") - retries == 2 and outcome_count("delivered") - delivered == 1
    assert await nothing_pending(redis, delivery)


async def test_retry_after_is_honoured_on_429(redis: Redis, receiver: Receiver, workers: Workers) -> None:
    delivery = workers()
    alert, url = make_alert(), receiver.endpoint(429, then=200, headers={"Retry-After": "1"})

    await delivery.enqueue(alert, [url])
    assert await settled(redis, delivery, alert, url) == "delivered"

    first, second = receiver.hits_for(url)
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.9, "backoff_s is 0.01, so only Retry-After explains the wait"


async def test_retry_after_zero_still_waits_the_schedules_minimum(
    redis: Redis, receiver: Receiver, workers: Workers
) -> None:
    delivery = workers(backoff_s=0.4)
    alert, url = make_alert(), receiver.endpoint(429, 429, 429, then=200, headers={"Retry-After": "0"})

    await delivery.enqueue(alert, [url])
    assert await settled(redis, delivery, alert, url) == "delivered"

    hits = receiver.hits_for(url)
    assert [hit.status for hit in hits] == [429, 429, 429, 200]
    assert hits[-1].at - hits[0].at >= 0.2 + 0.4 + 0.8, "half of each backoff at least, whatever Retry-After says"


async def test_a_receiver_that_hangs_holds_only_its_own_slots(
    redis: Redis, receiver: Receiver, workers: Workers
) -> None:
    delivery = workers(per_destination=2, attempt_deadline_s=60)
    release = asyncio.Event()
    hanging = Receiver()
    runner = await serve(hanging)  # a port of its own: another destination
    try:
        slow, fast = hanging.hanging_endpoint(release), receiver.endpoint()
        slow_alerts, fast_alerts = [make_alert() for _ in range(6)], [make_alert() for _ in range(6)]
        for alert in slow_alerts:  # queued first, so they are due first
            await delivery.enqueue(alert, [slow])
        for alert in fast_alerts:
            await delivery.enqueue(alert, [fast])

        async def two_hanging() -> bool:
            return hanging.waiting == 2

        await wait_until_async(two_hanging, 10, "two attempts to hang at the slow receiver")
        for alert in fast_alerts:
            assert await settled(redis, delivery, alert, fast) == "delivered"
        assert hanging.most_waiting == 2, "two attempts hang, the slow receiver's others wait their turn"

        release.set()
        for alert in slow_alerts:
            assert await settled(redis, delivery, alert, slow) == "delivered"
        assert sorted(hit.headers["webhook-id"] for hit in hanging.hits_for(slow)) == sorted(
            alert.alert_id for alert in slow_alerts), "each once"
    finally:
        release.set()
        await runner.cleanup()


async def test_a_webhook_queued_by_this_process_is_picked_up_at_once_not_at_the_next_poll(
    redis: Redis, receiver: Receiver, workers: Workers
) -> None:
    delivery = workers(poll_s=3600, idle_s=3600)  # after its first look at the queue, the loop would sleep an hour
    url = receiver.endpoint()
    for alert in (make_alert(), make_alert()):
        await delivery.enqueue(alert, [url])
        assert await settled(redis, delivery, alert, url) == "delivered"


async def test_a_quiet_loop_wakes_for_a_retry_at_its_due_time_not_at_its_idle_poll(
    redis: Redis, receiver: Receiver, workers: Workers
) -> None:
    """With nothing due the loop sleeps until the earliest retry falls due, so idling costs nothing and a
    retry is not held back to the next idle poll (an hour here)."""
    delivery = workers(poll_s=0.05, idle_s=3600, backoff_s=0.5)
    alert, url = make_alert(), receiver.endpoint(503, then=200)
    await delivery.enqueue(alert, [url])
    assert await settled(redis, delivery, alert, url) == "delivered"
    first, second = receiver.hits_for(url)
    assert (first.status, second.status) == (503, 200)
    assert second.at - first.at >= delivery.schedule.minimum(1)  # at its due time, not before


async def test_410_gone_stops_delivery_to_that_url(redis: Redis, receiver: Receiver, workers: Workers) -> None:
    delivery = workers()
    alert, gone, healthy = make_alert(), receiver.endpoint(then=410), receiver.endpoint()

    assert await delivery.enqueue(alert, [gone, healthy]) == 2
    assert await settled(redis, delivery, alert, gone) == "gone"
    assert await settled(redis, delivery, alert, healthy) == "delivered"

    assert len(receiver.hits_for(gone)) == 1 and len(receiver.hits_for(healthy)) == 1
    assert await nothing_pending(redis, delivery), "nothing left that could be sent again"
    [failure] = await failures(redis, delivery)
    assert failure["alert_id"] == alert.alert_id and failure["url"] == redact_url(gone) != gone, "its token hidden"
    assert failure["outcome"] == "gone" and failure["last_error"] == "410 gone"
    assert await delivery.enqueue(alert, [gone]) == 0


async def test_exhausted_deliveries_land_in_the_failed_list(
    redis: Redis, receiver: Receiver, workers: Workers
) -> None:
    delivery = workers(max_attempts=3)
    alert, url = make_alert(), receiver.endpoint(then=503)

    await delivery.enqueue(alert, [url])
    assert await settled(redis, delivery, alert, url) == "failed"

    assert [hit.status for hit in receiver.hits_for(url)] == [503, 503, 503]
    [failure] = await failures(redis, delivery)
    assert failure == {**failure, "alert_id": alert.alert_id, "url": redact_url(url), "attempts": 3,
                       "last_error": "HTTP 503"}
    assert await nothing_pending(redis, delivery)


async def test_other_4xx_fails_at_once(redis: Redis, receiver: Receiver, workers: Workers) -> None:
    delivery = workers()
    alert, url = make_alert(), receiver.endpoint(then=400)

    await delivery.enqueue(alert, [url])
    assert await settled(redis, delivery, alert, url) == "failed"
    assert len(receiver.hits_for(url)) == 1
    [failure] = await failures(redis, delivery)
    assert failure["attempts"] == 1 and failure["last_error"] == "HTTP 400"


async def test_connection_errors_are_retried_then_given_up(redis: Redis, workers: Workers) -> None:
    delivery = workers(max_attempts=2)
    alert, url = make_alert(), f"http://127.0.0.1:{free_port()}/closed"

    await delivery.enqueue(alert, [url])
    assert await settled(redis, delivery, alert, url) == "failed"
    [failure] = await failures(redis, delivery)
    assert failure["attempts"] == 2 and failure["last_error"].startswith("ConnectError")


async def test_private_targets_are_refused_without_a_request(
    redis: Redis, receiver: Receiver, workers: Workers
) -> None:
    delivery = workers(allow_private=False)
    alert, url = make_alert(), receiver.endpoint()

    await delivery.enqueue(alert, [url + "?token=s3cret"])
    assert await settled(redis, delivery, alert, url + "?token=s3cret") == "refused"
    assert receiver.hits_for(url) == []
    [failure] = await failures(redis, delivery)
    assert "loopback" in failure["last_error"] and "s3cret" not in json.dumps(failure)


async def test_a_claim_abandoned_by_a_dead_worker_is_delivered_after_its_lease(
    redis: Redis, receiver: Receiver, workers: Workers, http: httpx.AsyncClient
) -> None:
    dead = WebhookDelivery(redis, http, secret=SECRET, allow_private=True, max_attempts=3, backoff_s=0.01,
                           key_prefix=f"test:webhooks:{uuid.uuid4().hex}")
    alert, url = make_alert(), receiver.endpoint()
    await dead.enqueue(alert, [url])
    now = time.time()
    assert len(await dead.claim(now, 0.3, 10)) == 1  # then "crash"

    restarted = WebhookDelivery(redis, http, secret=SECRET, allow_private=True, max_attempts=3, backoff_s=0.01,
                                key_prefix=dead.key_prefix)
    assert await restarted.deliver_due() == 0, "the claim is still leased"
    assert await wait_until_async(restarted.deliver_due, 10, "the lease to run out") == 1
    assert await settled(redis, restarted, alert, url) == "delivered"
    assert len(receiver.hits_for(url)) == 1


async def test_an_item_its_own_attempt_just_rescheduled_is_not_claimed_from_under_it(
    redis: Redis, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    delivery = WebhookDelivery(redis, http, secret=SECRET, allow_private=True, max_attempts=3, backoff_s=0.01,
                               key_prefix=f"test:webhooks:{uuid.uuid4().hex}")
    alert, url = make_alert(), receiver.endpoint()
    await delivery.enqueue(alert, [url])
    [(item_id, destination)] = await delivery.claim(time.time(), 60, 10)
    assert destination == receiver.base
    loaded = await delivery.load(item_id)
    assert loaded is not None
    due = time.time() - 1  # the attempt failed and asked for a retry at once; it has not let go of the item yet
    await delivery.reschedule(item_id, loaded[0], due)

    assert await delivery.claim(time.time(), 60, 10, held=[item_id]) == []
    assert await redis.zscore(delivery.queue_key, item_id) == pytest.approx(due), "its retry time is kept"
    assert await delivery.claim(time.time(), 60, 10) == [(item_id, receiver.base)], "claimed once let go"


async def test_the_loop_survives_an_unreachable_redis(workers: Workers, caplog: pytest.LogCaptureFixture) -> None:
    unreachable = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    caplog.set_level(logging.ERROR, logger="services.notifier.webhooks.delivery")
    workers(redis_client=unreachable)

    async def logged() -> bool:
        return any(record.getMessage() == "webhook.queue_error" for record in caplog.records)

    await wait_until_async(logged, 10, "the Redis error to be logged")
    await unreachable.aclose()


# Subscriptions: each target signs with its own secret, looked up by subscription id at send time.

def other_secret() -> str:
    return "whsec_" + base64.b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode()


@pytest.fixture
async def store(redis: Redis) -> SubscriptionStore:
    return SubscriptionStore(redis, key_prefix=f"test:subscriptions:{uuid.uuid4().hex}")


async def subscribe(store: SubscriptionStore, url: str, rules: list[str] | None = None) -> Subscription:
    subscription = Subscription(id=new_subscription_id(), url=url, secret=other_secret(), rules=rules or [])
    await store.add(subscription)
    return subscription


def target(subscription: Subscription) -> Target:
    return Target(subscription.url, subscription.id)


async def test_each_subscription_gets_each_alert_once_signed_with_its_own_secret(
    redis: Redis, receiver: Receiver, workers: Workers, store: SubscriptionStore
) -> None:
    delivery = workers(subscriptions=store)
    url = receiver.endpoint()
    first, second = await subscribe(store, url), await subscribe(store, url)
    alerts = [make_alert() for _ in range(3)]

    for alert in alerts:
        assert await delivery.enqueue(alert, [target(first), target(second), url]) == 3
        assert await delivery.enqueue(alert, [target(first), target(second)]) == 0, "queued once per subscription"
    for alert in alerts:
        for each in (target(first), target(second), url):
            assert await settled(redis, delivery, alert, each) == "delivered"

    hits = receiver.hits_for(url)
    assert len(hits) == 9
    for subscription in (first, second):
        mine = [hit for hit in hits if signature_valid(subscription.secret, hit.headers, hit.body)]
        assert sorted(hit.headers["webhook-id"] for hit in mine) == sorted(alert.alert_id for alert in alerts)
    assert len([hit for hit in hits if hit.signed]) == 3, "the settings URL signs with the configured secret"
    assert all(first.secret not in json.dumps(record) for record in await failures(redis, delivery))


async def test_a_receiver_down_then_back_gets_every_alert_once_per_subscription(
    redis: Redis, receiver: Receiver, workers: Workers, store: SubscriptionStore
) -> None:
    delivery = workers(subscriptions=store, max_attempts=50)
    port = free_port()
    back = Receiver(base=f"http://127.0.0.1:{port}")
    first, second = await subscribe(store, back.endpoint()), await subscribe(store, back.endpoint())
    alerts = [make_alert() for _ in range(5)]
    for alert in alerts:
        await delivery.enqueue(alert, [target(first), target(second)])

    async def retried() -> bool:
        states = [json.loads(raw) for raw in (await redis.hgetall(delivery.items_key)).values()]
        return len(states) == 10 and all(state["attempts"] >= 2 for state in states)

    await wait_until_async(retried, 10, "every delivery to fail twice while the receiver is down")
    runner = await serve(back, port)
    try:
        for alert in alerts:
            for subscription in (first, second):
                assert await settled(redis, delivery, alert, target(subscription)) == "delivered"
    finally:
        await runner.cleanup()
    for subscription in (first, second):
        hits = back.hits_for(subscription.url)
        assert sorted(hit.headers["webhook-id"] for hit in hits) == sorted(alert.alert_id for alert in alerts)
        assert all(signature_valid(subscription.secret, hit.headers, hit.body) for hit in hits)
    assert await nothing_pending(redis, delivery)


async def test_410_disables_the_subscription_and_nothing_more_is_sent_to_it(
    redis: Redis, receiver: Receiver, workers: Workers, store: SubscriptionStore
) -> None:
    delivery = workers(subscriptions=store)
    gone = await subscribe(store, receiver.endpoint(then=410))
    first, later = make_alert(), make_alert()

    await delivery.enqueue(first, [target(gone)])
    assert await settled(redis, delivery, first, target(gone)) == "gone"
    stored = await store.get(gone.id)
    assert stored is not None and not stored.active and "410" in (stored.disabled_reason or "")
    assert await store.active_for("iran-sanctions") == []

    await delivery.enqueue(later, [target(gone)])  # queued before the alerter saw it disabled
    assert await settled(redis, delivery, later, target(gone)) == "disabled"
    assert len(receiver.hits_for(gone.url)) == 1
    outcomes = [(record["alert_id"], record["outcome"], record["subscription_id"])
                for record in await failures(redis, delivery)]
    assert outcomes == [(first.alert_id, "gone", gone.id), (later.alert_id, "disabled", gone.id)]


async def test_a_deleted_subscription_is_sent_nothing(
    redis: Redis, receiver: Receiver, workers: Workers, store: SubscriptionStore
) -> None:
    subscription = await subscribe(store, receiver.endpoint())
    alert = make_alert()
    delivery = workers(subscriptions=store)
    assert await store.delete(subscription.id)
    await delivery.enqueue(alert, [target(subscription)])
    assert await settled(redis, delivery, alert, target(subscription)) == "cancelled"
    assert receiver.hits_for(subscription.url) == [] and await failures(redis, delivery) == []
    assert not await store.delete(subscription.id)


async def test_failed_deliveries_are_replayed_to_their_target_once(
    redis: Redis, receiver: Receiver, workers: Workers, store: SubscriptionStore
) -> None:
    delivery = workers(subscriptions=store, max_attempts=2)
    flaky = receiver.endpoint(503, 503, then=200)
    subscription = await subscribe(store, flaky)
    removed = await subscribe(store, receiver.endpoint(then=503))
    alert = make_alert()
    await delivery.enqueue(alert, [target(subscription), target(removed)])
    assert await settled(redis, delivery, alert, target(subscription)) == "failed"
    assert await settled(redis, delivery, alert, target(removed)) == "failed"
    await store.delete(removed.id)

    async def resolve(record: dict[str, Any]) -> Target | None:
        found = await store.get(record["subscription_id"])
        return target(found) if found else None

    report = await delivery.replay_failed(resolve)
    assert (report.replayed, report.unknown_target, report.expired) == (1, 1, 0)
    assert await settled(redis, delivery, alert, target(subscription)) == "delivered"
    assert [hit.status for hit in receiver.hits_for(flaky)] == [503, 503, 200]
    assert [record["subscription_id"] for record in await failures(redis, delivery)] == [removed.id]
    assert (await delivery.replay_failed(resolve)).replayed == 0, "nothing left to replay"


async def test_retries_stop_at_the_horizon(redis: Redis, receiver: Receiver, http: httpx.AsyncClient) -> None:
    delivery = WebhookDelivery(redis, http, secret=SECRET, allow_private=True, max_attempts=100, backoff_s=0.2,
                               horizon_s=0.5, key_prefix=f"test:webhooks:{uuid.uuid4().hex}")
    alert, url = make_alert(), receiver.endpoint(then=503)
    await delivery.enqueue(alert, [url])
    stop = asyncio.Event()
    task = asyncio.create_task(delivery.run(stop, poll_s=0.01))
    try:
        assert await settled(redis, delivery, alert, url) == "failed"
    finally:
        stop.set()
        await task
    assert 1 <= len(receiver.hits_for(url)) < 100, "given up by time, long before the attempt cap"
