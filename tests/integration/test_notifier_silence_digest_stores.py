"""Silences and digests in a real redis-server: shared by instances, kept across restarts, expiring on their own,
and one digest per period however many notifiers run.

Each test uses its own key prefixes, so tests share the server but no state.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from newsmon.embedded import ManagedProcess, free_port, start_redis
from services.notifier.channels.notice import AlertNotice, DigestNotice
from services.notifier.digest_store import DigestStore
from services.notifier.digests import Digests
from services.notifier.silence_api import SilenceAPI
from services.notifier.silence_store import SilenceStore
from services.notifier.silences import NewSilence, silence_from_request
from shared.schemas import Alert, MatchedSentence
from tests.waiting import wait_until_async

START = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


@dataclass
class RedisServer:
    port: int
    root: Path
    process: ManagedProcess | None = None

    def start(self) -> None:
        self.process = start_redis(self.port, self.root / "data", self.root / "logs")

    def restart(self) -> None:
        assert self.process is not None
        self.process.stop()
        self.start()


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path_factory.mktemp("notifier-redis"))
    server.start()
    yield server
    assert server.process is not None
    server.process.stop()


def client(server: RedisServer) -> Redis:
    return Redis.from_url(f"redis://127.0.0.1:{server.port}/0")


@pytest.fixture
async def redis(redis_server: RedisServer) -> AsyncIterator[Redis]:
    connection = client(redis_server)
    yield connection
    await connection.aclose()


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}"


def alert(rule_id: str, story_id: str, fired_at: datetime = START) -> Alert:
    return Alert(alert_id=f"al-{rule_id}-{story_id}", rule_id=rule_id, rule_name=rule_id.title(),
                 article_id=f"art-{story_id}", story_id=story_id, title=f"Story {story_id}", source="wire",
                 fired_at=fired_at, sentences=[MatchedSentence(text="It matched.", start=0, end=11)])


def silence_request(**body: Any) -> NewSilence:
    return NewSilence.model_validate(body)


# --- silences ---------------------------------------------------------------------------------------------------


async def test_a_silence_is_listed_holds_matching_alerts_and_can_end_early(redis: Redis, prefix: str) -> None:
    store = SilenceStore(redis, prefix)
    rafah = silence_from_request(silence_request(matchers={"rule": "rafah"}, duration_s=600, comment="night"))
    one_sub = silence_from_request(silence_request(matchers={"story_id": "s2", "subscription": "sub_b"},
                                                   duration_s=600))
    await store.add(rafah)
    await store.add(one_sub)
    assert {silence.id for silence in await store.active()} == {rafah.id, one_sub.id}
    assert await store.silencing(alert("rafah", "s1"), "sub_a") == rafah
    assert await store.silencing(alert("gaza", "s1"), "sub_a") is None
    assert await store.silencing(alert("gaza", "s2"), "sub_b") == one_sub
    assert await store.silencing(alert("gaza", "s2"), "sub_a") is None

    assert await store.end(rafah.id) is True
    assert await store.end(rafah.id) is False
    assert [silence.id for silence in await store.active()] == [one_sub.id]
    assert await store.silencing(alert("rafah", "s1"), "sub_a") is None


async def test_a_silence_expires_on_its_own(redis: Redis, prefix: str) -> None:
    store = SilenceStore(redis, prefix)
    short = silence_from_request(silence_request(matchers={"rule": "rafah"}, duration_s=1.5))
    await store.add(short)
    key = f"{prefix}:silence:{short.id}"
    assert 0 < await redis.pttl(key) <= 1500  # Redis ends it, not a notifier
    assert await store.silencing(alert("rafah", "s1"), "sub_a") == short
    await wait_until_async(lambda: _gone(redis, key), 10, "the silence's key to expire")
    assert await store.active() == [] and await store.get(short.id) is None
    assert await store.silencing(alert("rafah", "s1"), "sub_a") is None
    assert not await redis.sismember(f"{prefix}:ids", short.id)


async def _gone(redis: Redis, key: str) -> bool:
    return not await redis.exists(key)


async def test_silences_survive_a_redis_restart_and_are_shared_by_instances(redis_server: RedisServer,
                                                                            prefix: str) -> None:
    first = client(redis_server)
    silence = silence_from_request(silence_request(matchers={"rule": "rafah"}, duration_s=600))
    await SilenceStore(first, prefix).add(silence)
    await first.aclose()
    redis_server.restart()
    second = client(redis_server)
    try:
        assert [found.id for found in await SilenceStore(second, prefix).active()] == [silence.id]
    finally:
        await second.aclose()


# --- digests ----------------------------------------------------------------------------------------------------


@dataclass
class Subscriber:
    id: str
    digest: dict[str, Any] | None = field(default_factory=lambda: {"every_s": 3600})
    active: bool = True


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Sent:
    """What the digests handed to the delivery queue, by message id (the queue keeps one per id)."""

    digests: dict[str, DigestNotice] = field(default_factory=dict)
    calls: int = 0
    fail: bool = False

    async def deliver(self, subscription: Subscriber, notice: DigestNotice, message_id: str) -> None:
        self.calls += 1
        if self.fail:
            raise ConnectionError("the queue is unreachable")
        self.digests.setdefault(message_id, notice)


def digests(redis: Redis, prefix: str, sent: Sent, clock: Clock, *subscribers: Subscriber,
            lease_s: int = 120) -> Digests:
    known = {subscriber.id: subscriber for subscriber in subscribers}

    async def subscription_of(subscription_id: str) -> Subscriber | None:
        return known.get(subscription_id)

    return Digests(DigestStore(redis, prefix, claim_lease_s=lease_s), subscription_of, sent.deliver, clock)


def fired(rule_id: str, story_id: str, minute: int, silence_id: str | None = None) -> AlertNotice:
    return AlertNotice("alert.fired", alert(rule_id, story_id, START + timedelta(minutes=minute)),
                       silence_id=silence_id)


async def test_one_digest_per_period_lists_its_alerts_newest_first(redis: Redis, prefix: str) -> None:
    sent, clock, subscriber = Sent(), Clock(), Subscriber("sub_a")
    collector = digests(redis, prefix, sent, clock, subscriber)
    for minute, (rule_id, story_id) in enumerate([("rafah", "s1"), ("gaza", "s2"), ("rafah", "s3")]):
        clock.now = START + timedelta(minutes=10 * minute + 1)
        await collector.add(subscriber, fired(rule_id, story_id, 10 * minute + 1, "sil_1" if minute == 1 else None))
    assert await collector.send_due() == 0  # the hour is not over
    clock.now = START + timedelta(hours=1, seconds=1)
    assert await collector.send_due() == 1
    assert await collector.send_due() == 0
    (digest_id, digest), = sent.digests.items()
    assert digest_id == f"digest_sub_a_{int((START + timedelta(hours=1)).timestamp())}"
    assert (digest.period_start, digest.period_end) == (START, START + timedelta(hours=1))
    assert [item.alert.story_id for item in digest.items] == ["s3", "s2", "s1"]
    assert [item.silence_id for item in digest.items] == [None, "sil_1", None]

    clock.now = START + timedelta(hours=2, seconds=1)
    assert await collector.send_due() == 0 and sent.calls == 1  # an hour without alerts sends nothing


async def test_an_alert_seen_again_is_not_listed_again(redis: Redis, prefix: str) -> None:
    sent, clock, subscriber = Sent(), Clock(START + timedelta(minutes=5)), Subscriber("sub_a")
    collector = digests(redis, prefix, sent, clock, subscriber)
    await collector.add(subscriber, fired("rafah", "s1", 5))
    await collector.add(subscriber, fired("rafah", "s1", 5))
    clock.now = START + timedelta(hours=1)
    await collector.send_due()
    clock.now = START + timedelta(hours=1, minutes=5)
    await collector.add(subscriber, fired("rafah", "s1", 5))  # redelivered after its digest went
    clock.now = START + timedelta(hours=2)
    await collector.send_due()
    assert [len(digest.items) for digest in sent.digests.values()] == [1]


async def test_two_instances_send_one_digest(redis_server: RedisServer, prefix: str) -> None:
    sent, clock, subscriber = Sent(), Clock(START + timedelta(minutes=1)), Subscriber("sub_a")
    first, second = client(redis_server), client(redis_server)
    try:
        instances = [digests(first, prefix, sent, clock, subscriber), digests(second, prefix, sent, clock, subscriber)]
        await instances[0].add(subscriber, fired("rafah", "s1", 1))
        await instances[1].add(subscriber, fired("gaza", "s2", 2))
        clock.now = START + timedelta(hours=1)
        counts = await asyncio.gather(*(instance.send_due() for instance in instances * 3))
        assert sum(counts) == 1 and sent.calls == 1
        assert [item.alert.rule_id for item in next(iter(sent.digests.values())).items] == ["gaza", "rafah"]
    finally:
        await first.aclose()
        await second.aclose()


async def test_entries_survive_a_restart_of_notifier_and_redis(redis_server: RedisServer, prefix: str) -> None:
    sent, clock, subscriber = Sent(), Clock(START + timedelta(minutes=1)), Subscriber("sub_a")
    before = client(redis_server)
    await digests(before, prefix, sent, clock, subscriber).add(subscriber, fired("rafah", "s1", 1))
    await before.aclose()
    redis_server.restart()
    after = client(redis_server)
    try:
        clock.now = START + timedelta(hours=1)
        assert await digests(after, prefix, sent, clock, subscriber).send_due() == 1
        assert [item.alert.story_id for item in next(iter(sent.digests.values())).items] == ["s1"]
    finally:
        await after.aclose()


async def test_a_claim_whose_instance_failed_runs_out_and_another_sends(redis: Redis, prefix: str) -> None:
    sent, clock, subscriber = Sent(fail=True), Clock(START + timedelta(minutes=1)), Subscriber("sub_a")
    failing = digests(redis, prefix, sent, clock, subscriber, lease_s=1)
    await failing.add(subscriber, fired("rafah", "s1", 1))
    clock.now = START + timedelta(hours=1)
    with pytest.raises(ConnectionError):
        await failing.send_due()
    sent.fail = False
    other = digests(redis, prefix, sent, clock, subscriber, lease_s=1)
    assert await other.send_due() == 0  # the claim still holds
    await wait_until_async(other.send_due, 10, "the failed claim to run out and the digest to be queued")
    assert len(sent.digests) == 1 and len(next(iter(sent.digests.values())).items) == 1


async def test_a_notifier_back_after_missed_periods_sends_one_digest_of_them_all(redis: Redis, prefix: str) -> None:
    sent, clock, subscriber = Sent(), Clock(START + timedelta(minutes=1)), Subscriber("sub_a")
    collector = digests(redis, prefix, sent, clock, subscriber)
    await collector.add(subscriber, fired("rafah", "s1", 1))
    clock.now = START + timedelta(hours=1, minutes=30)
    await collector.add(subscriber, fired("gaza", "s2", 90))
    clock.now = START + timedelta(hours=3, minutes=5)
    assert await collector.send_due() == 1
    digest = next(iter(sent.digests.values()))
    assert (digest.period_start, digest.period_end) == (START, START + timedelta(hours=3))
    assert len(digest.items) == 2


async def test_entries_of_a_deleted_subscription_are_dropped(redis: Redis, prefix: str) -> None:
    sent, clock, subscriber = Sent(), Clock(START + timedelta(minutes=1)), Subscriber("sub_gone")
    await digests(redis, prefix, sent, clock, subscriber).add(subscriber, fired("rafah", "s1", 1))
    clock.now = START + timedelta(hours=1)
    assert await digests(redis, prefix, sent, clock).send_due() == 0
    assert sent.calls == 0
    assert await redis.smembers(f"{prefix}:pending") == set()
    assert not await redis.exists(f"{prefix}:entries:sub_gone")


async def test_a_newer_update_read_during_a_send_goes_in_the_next_digest(redis: Redis, prefix: str) -> None:
    sent, clock, subscriber = Sent(), Clock(START + timedelta(minutes=1)), Subscriber("sub_a")
    collector = digests(redis, prefix, sent, clock, subscriber)
    await collector.add(subscriber, fired("rafah", "s1", 1))
    store = collector.store
    end = (START + timedelta(hours=1)).timestamp()
    entries = await store.entries_before("sub_a", end)
    update = AlertNotice("alert.updated", alert("rafah", "s1", START + timedelta(minutes=1)), outlets=10,
                         update_sequence=1, update_reason="now 10 outlets")
    clock.now = START + timedelta(minutes=59)
    await collector.add(subscriber, update)  # lands between the digest's read and its settle
    assert await store.claim("sub_a", end)
    await store.settle("sub_a", end, entries, end + 1)
    (left,) = await store.entries_before("sub_a", end + 3600)
    assert json.loads(left.raw)["update_reason"] == "now 10 outlets"


async def test_the_silence_api_creates_lists_and_ends_and_keeps_the_gauge_told(redis: Redis, prefix: str) -> None:
    changes: list[int] = []
    store = SilenceStore(redis, prefix)

    async def changed() -> None:
        changes.append(len(await store.active()))

    api = SilenceAPI(store, changed)
    created = await api.create(json.dumps({"matchers": {"rule": "rafah", "subscription": "sub_a"},
                                           "duration_s": 3600, "comment": "night"}).encode())
    assert created.status == 201 and created.body is not None
    assert created.body["matchers"] == {"rule": "rafah", "subscription": "sub_a"} and created.body["comment"] == "night"
    listed = await api.list()
    assert listed.body == {"silences": [created.body]}
    refused = await api.create(json.dumps({"matchers": {"rule": "rafah"}}).encode())
    assert refused.status == 422 and refused.body is not None and "duration_s and ends_at" in refused.body["error"]
    assert (await api.end(created.body["id"])).status == 204
    assert (await api.end(created.body["id"])).status == 404
    assert changes == [1, 0]


async def test_a_subscription_with_an_unreadable_schedule_does_not_stop_the_others(redis: Redis, prefix: str) -> None:
    sent, clock = Sent(), Clock(START + timedelta(minutes=1))
    broken, fine = Subscriber("sub_broken", digest={"every_s": "hourly"}), Subscriber("sub_fine")
    collector = digests(redis, prefix, sent, clock, broken, fine)
    await collector.add(broken, fired("rafah", "s1", 1))
    await collector.add(fine, fired("rafah", "s2", 1))
    clock.now = START + timedelta(hours=1)
    assert await collector.send_due() == 1
    assert [notice.subscription_id for notice in sent.digests.values()] == ["sub_fine"]
    assert await redis.sismember(f"{prefix}:pending", "sub_broken"), "kept, in case the schedule is fixed"
