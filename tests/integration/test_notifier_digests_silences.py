"""Digests and silences on the running stack, driven by articles that fire the default `rafah` rule.

A digest subscription with a period of seconds gets one signed digest listing every story alerted in
its period, also when the notifier restarts between the alerts and the digest, and when two notifier
instances share the work. A silence on `rafah` keeps rafah alerts from an immediate subscriber until
it is ended, or until it expires on its own; what it held back is listed by `newsmon deliveries list
--silenced` and never sent later.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis

from newsmon.embedded import ManagedProcess, spawn
from newsmon.stack import Stack, service_environment
from shared.article_ids import alert_id
from tests.integration.conftest import WEBHOOK_SECRET, free_ports, metric, produce
from tests.integration.receiver import Received, Receiver, signature_valid
from tests.integration.test_notifier_api import call, rafah_story
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def digest_receiver() -> Iterator[Receiver]:
    """This module's own receiver: digests are not alerts, and other tests read the session receiver's
    requests as alerts."""
    own = Receiver().start()
    yield own
    own.stop()


@pytest.fixture(scope="module")
def redis(stack: Stack) -> Iterator[Redis]:
    client = Redis.from_url(stack.settings.redis)
    yield client
    client.close()


def subscribe(stack: Stack, digest_receiver: Receiver, path: str, **fields: Any) -> dict[str, Any]:
    status, created = call(stack, "POST", "/api/subscriptions",
                           {"url": digest_receiver.url(path), "rules": ["rafah"], "secret": WEBHOOK_SECRET, **fields})
    assert status == 201, created
    return created


def stories(count: int) -> list[tuple[bytes, bytes]]:
    tag = uuid.uuid4().hex[:8]
    return [rafah_story(f"{tag}-{number}") for number in range(count)]


def story_ids(batch: list[tuple[bytes, bytes]]) -> list[str]:
    return [key.decode() for key, _ in batch]  # rafah_story's story id is its article id


def at_period_start(period_s: int) -> float:
    """Wait until a period of ``period_s`` has just begun, so alerts sent now all fall in it; its end."""
    wait_until(lambda: 0.5 <= time.time() % period_s < 3, period_s + 10, f"the start of a {period_s} s period")
    return math.ceil(time.time() / period_s) * period_s


def digests(digest_receiver: Receiver, path: str) -> list[Received]:
    return [hit for hit in digest_receiver.snapshot(path) if hit.json.get("type") == "digest"]


def pending(redis: Redis, subscription_id: str) -> int:
    """Entries kept in Redis for the subscription's next digest."""
    return int(redis.zcard(f"newsmon:digests:order:{subscription_id}"))


def check_one_digest(digest_receiver: Receiver, path: str, subscription: dict[str, Any], period_end: float,
                     expected: list[str]) -> dict[str, Any]:
    """The one digest the subscription got: signed, for the period, listing exactly ``expected``, newest first."""
    (digest,) = digests(digest_receiver, path)
    assert signature_valid(WEBHOOK_SECRET, digest.headers, digest.body)
    body = digest.json
    assert digest.webhook_id == body["digest_id"] == f"digest_{subscription['id']}_{int(period_end)}"
    assert body["subscription_id"] == subscription["id"]
    assert body["period_end"].startswith(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(period_end)))
    listed = [story["story_id"] for story in body["stories"]]
    assert sorted(listed) == sorted(expected) and body["story_count"] == len(expected)
    alerted = [story["last_alerted_at"] for story in body["stories"]]
    assert alerted == sorted(alerted, reverse=True), "newest first"
    for story in body["stories"]:
        assert story["title"] and story["first_seen"] and story["outlets"] >= 1
        assert [rule["rule_id"] for rule in story["rules"]] == ["rafah"]
    return dict(body)


def test_digest_and_silence_requests_are_checked_naming_the_field(stack: Stack, digest_receiver: Receiver) -> None:
    for digest, field in [({"every_s": 0}, "digest.every_s"), ({"at": "8h", "timezone": "Europe/Paris"}, "digest.at"),
                          ({"at": "08:00", "timezone": "Europe/Nowhere"}, "digest.timezone"), ("daily", "digest")]:
        status, answer = call(stack, "POST", "/api/subscriptions", {"url": digest_receiver.url("digest-bad"),
                                                                     "digest": digest})
        assert status == 422 and answer["error"].startswith(field), answer
    created = subscribe(stack, digest_receiver, "digest-shown",
                        digest={"daily_at": "08:00", "timezone": "Europe/Paris"})
    listed = {entry["id"]: entry for entry in call(stack, "GET", "/api/subscriptions")[1]["subscriptions"]}
    assert listed[created["id"]]["digest"] == {"at": "08:00", "timezone": "Europe/Paris"}
    call(stack, "DELETE", f"/api/subscriptions/{created['id']}")

    for body, field in [({"matchers": {"rule": "rafah"}, "comment": "no end"}, "duration_s and ends_at"),
                        ({"matchers": {}, "duration_s": 60}, "matchers"),
                        ({"matchers": {"rule": "rafah"}, "ends_at": "2020-01-01T00:00:00Z"}, "ends_at")]:
        status, answer = call(stack, "POST", "/api/silences", body)
        assert status == 422 and field in answer["error"], answer
    assert call(stack, "DELETE", "/api/silences/sil_unknown")[0] == 404
    assert call(stack, "GET", "/api/silences", token=None)[0] == 401


def test_a_digest_lists_every_story_of_its_period_once(stack: Stack, digest_receiver: Receiver, redis: Redis) -> None:
    period_s = 20
    subscription = subscribe(stack, digest_receiver, "digest-period", digest={"every_s": period_s})
    immediate = subscribe(stack, digest_receiver, "digest-immediate")
    batch = stories(3)
    held_story = story_ids(batch)[2]
    status, silence = call(stack, "POST", "/api/silences", {"matchers": {"story_id": held_story},
                                                            "duration_s": 600, "comment": "digest test"})
    assert status == 201, silence
    try:
        period_end = at_period_start(period_s)
        produce(stack.settings, "articles.enriched", batch)
        wait_until(lambda: digests(digest_receiver, "digest-period"), 90, "the digest")
        body = check_one_digest(digest_receiver, "digest-period", subscription, period_end, story_ids(batch))
        (held,) = [story for story in body["stories"] if story["story_id"] == held_story]
        assert held["silenced"] and [rule["silence_id"] for rule in held["rules"]] == [silence["id"]]
        assert pending(redis, subscription["id"]) == 0  # nothing left for a later digest
        assert len(digest_receiver.snapshot("digest-period")) == 1, "no alert of its own, only the digest"
        immediate_ids = sorted(hit.json["story_id"] for hit in digest_receiver.snapshot("digest-immediate"))
        assert immediate_ids == sorted(story_ids(batch)[:2]), "the silence held the third story back"
        assert metric(stack, "notifier", "newsmon_digests_total", format="standard") >= 1
    finally:
        call(stack, "DELETE", f"/api/silences/{silence['id']}")
        for created in (subscription, immediate):
            call(stack, "DELETE", f"/api/subscriptions/{created['id']}")


def test_a_notifier_restart_between_alerts_and_digest_gives_one_digest(stack: Stack, digest_receiver: Receiver,
                                                                      redis: Redis) -> None:
    period_s = 40
    subscription = subscribe(stack, digest_receiver, "digest-restart", digest={"every_s": period_s})
    batch = stories(3)
    try:
        period_end = at_period_start(period_s)
        produce(stack.settings, "articles.enriched", batch)
        wait_until(lambda: pending(redis, subscription["id"]) == 3, 30, "the alerts kept for the digest")
        assert time.time() < period_end - 3, "the restart must begin before the period ends"
        assert not digests(digest_receiver, "digest-restart")
        stack.restart("notifier")
        wait_until(lambda: digests(digest_receiver, "digest-restart"), 120, "the digest after the restart")
        check_one_digest(digest_receiver, "digest-restart", subscription, period_end, story_ids(batch))
        assert pending(redis, subscription["id"]) == 0
    finally:
        call(stack, "DELETE", f"/api/subscriptions/{subscription['id']}")


@pytest.fixture
def second_notifier(stack: Stack) -> Iterator[ManagedProcess]:
    (port,) = free_ports(1)
    env = {**os.environ, **service_environment(stack.settings), "NEWSMON_NOTIFIER_PORT": str(port)}
    process = spawn("notifier-2", [sys.executable, "-m", "newsmon", "service", "notifier"], stack.log_dir, env)
    try:
        wait_until(lambda: _ready(port) or not process.alive(), 180, "a second notifier to join its group")
        assert process.alive(), process.log_tail()
        yield process
    finally:
        process.stop()


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def test_two_notifier_instances_send_one_digest(stack: Stack, digest_receiver: Receiver, redis: Redis,
                                                second_notifier: ManagedProcess) -> None:
    period_s = 15
    subscription = subscribe(stack, digest_receiver, "digest-two", digest={"every_s": period_s})
    batch = stories(6)  # spread over the partitions, so both instances keep entries
    try:
        period_end = at_period_start(period_s)
        produce(stack.settings, "articles.enriched", batch)
        wait_until(lambda: digests(digest_receiver, "digest-two"), 90, "the digest")
        wait_until(lambda: time.time() > period_end + 2, 30, "both instances to have looked for the period")
        check_one_digest(digest_receiver, "digest-two", subscription, period_end, story_ids(batch))
        assert second_notifier.alive()
    finally:
        call(stack, "DELETE", f"/api/subscriptions/{subscription['id']}")


def newsmon(cli_env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "newsmon", *args], env=cli_env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def silenced_records(cli_env: dict[str, str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in newsmon(cli_env, "deliveries", "list", "--silenced", "--json").splitlines()]


def test_a_silence_on_rafah_holds_alerts_back_until_it_ends_or_expires(
    stack: Stack, digest_receiver: Receiver, cli_env: dict[str, str]
) -> None:
    path = "silenced-immediate"
    subscription = subscribe(stack, digest_receiver, path)
    first, after_end, during_expiring, after_expiry = (rafah_story(uuid.uuid4().hex[:8]) for _ in range(4))

    def delivered() -> set[str]:
        return {hit.json["story_id"] for hit in digest_receiver.snapshot(path)}

    def held(story: tuple[bytes, bytes], silence_id: str) -> bool:
        wanted = alert_id("rafah", story[0].decode())
        return any(record["alert_id"] == wanted and record["subscription_id"] == subscription["id"]
                   and record["silence_id"] == silence_id for record in silenced_records(cli_env))

    silence_ids: list[str] = []
    try:
        status, silence = call(stack, "POST", "/api/silences", {"matchers": {"rule": "rafah"}, "duration_s": 600,
                                                                "comment": "quiet night"})
        assert status == 201, silence
        silence_ids.append(silence["id"])
        assert silence["id"] in newsmon(cli_env, "silences", "list")
        wait_until(lambda: metric(stack, "notifier", "newsmon_silences_active") >= 1, 30, "the silences gauge")
        produce(stack.settings, "articles.enriched", [first])
        wait_until(lambda: held(first, silence["id"]), 60, "the first alert to be recorded as silenced")
        assert "silenced" in newsmon(cli_env, "deliveries", "list", "--silenced")

        assert newsmon(cli_env, "silences", "end", silence["id"]).strip() == f"ended {silence['id']}"
        assert silence["id"] not in newsmon(cli_env, "silences", "list")
        produce(stack.settings, "articles.enriched", [after_end])
        wait_until(lambda: after_end[0].decode() in delivered(), 60, "an alert after the silence ended")

        added = newsmon(cli_env, "silences", "add", "--rule", "rafah", "--duration", "15s", "--comment", "short")
        expiring = added.split()[1]
        silence_ids.append(expiring)
        produce(stack.settings, "articles.enriched", [during_expiring])
        wait_until(lambda: held(during_expiring, expiring), 15, "an alert held by the expiring silence")
        wait_until(lambda: not call(stack, "GET", "/api/silences")[1]["silences"], 60, "the silence to expire")
        wait_until(lambda: metric(stack, "notifier", "newsmon_silences_active") == 0, 30, "the gauge at 0")
        produce(stack.settings, "articles.enriched", [after_expiry])
        wait_until(lambda: after_expiry[0].decode() in delivered(), 60, "an alert after the silence expired")

        assert delivered() == {after_end[0].decode(), after_expiry[0].decode()}, "held alerts are never sent later"
    finally:
        for silence_id in silence_ids:
            call(stack, "DELETE", f"/api/silences/{silence_id}")
        call(stack, "DELETE", f"/api/subscriptions/{subscription['id']}")
