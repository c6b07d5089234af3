"""Two instances each of dedupe, ner, alerter and notifier in one consumer group: the work is shared and every
guarantee holds, also while an instance is killed and the group rebalances.

The second instances are ``newsmon service <name>`` processes this module starts against the
session stack's broker and Redis, each on an HTTP port of its own, and kills by pid. Articles come
from the benchmark corpus (near-duplicates and rule hits included), each batch with ids of its own.
"""

from __future__ import annotations

import os
import signal
import sys
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from newsmon.embedded import ManagedProcess, spawn
from newsmon.stack import Stack, service_environment
from shared import topics
from tests.bench.corpus import BenchArticle, generate
from tests.integration.conftest import (
    WEBHOOK_SECRET,
    free_ports,
    produce,
    read_json_topic,
)
from tests.integration.receiver import Receiver
from tests.integration.test_notifier_api import call, subscribe
from tests.waiting import wait_until

SCALED = ("dedupe", "ner", "alerter", "notifier")
SUBSCRIBER_PATH = "scale-out"


@dataclass
class Instance:
    """A second instance of a stage: its process and the port of its /metrics and /readyz."""

    process: ManagedProcess
    port: int

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False


def consumed(port: int, service: str) -> float:
    """Messages the instance serving ``port`` has taken from its input topic so far."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    prefix = f'newsmon_messages_in_total{{service="{service}",'
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


@pytest.fixture(scope="module")
def second_instances(stack: Stack) -> Iterator[dict[str, Instance]]:
    started: dict[str, Instance] = {}
    try:
        for service, port in zip(SCALED, free_ports(len(SCALED)), strict=True):
            env = {**os.environ, **service_environment(stack.settings), f"NEWSMON_{service.upper()}_PORT": str(port)}
            process = spawn(f"{service}-2", [sys.executable, "-m", "newsmon", "service", service], stack.log_dir, env)
            started[service] = Instance(process, port)
        for service, instance in started.items():
            # Ready means partitions assigned: the instance has joined its stage's consumer group.
            wait_until(lambda instance=instance: instance.ready() or not instance.process.alive(), 180,
                       f"a second {service} instance to join its group")
            assert instance.process.alive(), instance.process.log_tail()
        yield started
    finally:
        for instance in started.values():
            instance.process.stop()


@pytest.fixture(scope="module")
def subscriber(stack: Stack, receiver: Receiver) -> Iterator[str]:
    """A subscription to every rule, removed when the module ends; yields the receiver path it posts to."""
    created = subscribe(stack, receiver.url(SUBSCRIBER_PATH), secret=WEBHOOK_SECRET)
    yield SUBSCRIBER_PATH
    call(stack, "DELETE", f"/api/subscriptions/{created['id']}")


def send(stack: Stack, articles: list[BenchArticle]) -> None:
    produce(stack.settings, topics.ARTICLES_RAW, [
        (raw.article_id.encode(), raw.model_dump_json().encode()) for raw in map(BenchArticle.as_raw, articles)])


def check_every_guarantee(stack: Stack, receiver: Receiver, articles: list[BenchArticle]) -> None:
    """Every story enriched; one alert per (rule, story), for exactly the rules its text hits; one delivery
    of each alert to each target.

    A story is an original and its copies. Which of them dedupe sees first starts the story, so a
    copy on another partition may go on to ner instead of its original.
    """
    story_of = {article.as_raw().article_id: article.copy_of if article.copy_of is not None else article.number
                for article in articles}
    hits = {(rule, article.number) for article in articles if article.copy_of is None for rule in article.rule_hits}

    def ours(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [message for message in messages if message.get("article_id") in story_of]

    def delivered(path: str) -> Counter[str]:
        return Counter(request.headers["webhook-id"] for request in receiver.snapshot(path)
                       if request.json.get("article_id") in story_of)

    def settled() -> bool:
        alerts = ours(read_json_topic(stack.settings, topics.ALERTS))
        sent = {alert["alert_id"] for alert in alerts}
        return ({(alert["rule_id"], story_of[alert["article_id"]]) for alert in alerts} >= hits
                and all(sent <= set(delivered(path)) for path in (SUBSCRIBER_PATH, "hook")))

    wait_until(settled, 120, f"{len(hits)} stories' alerts published and delivered to both targets")
    enriched = ours(read_json_topic(stack.settings, topics.ARTICLES_ENRICHED))
    assert {story_of[article["article_id"]] for article in enriched} == set(story_of.values()), "every story"

    alerts = ours(read_json_topic(stack.settings, topics.ALERTS))
    assert {(alert["rule_id"], story_of[alert["article_id"]]) for alert in alerts} == hits
    ids_by_rule_and_story: dict[tuple[str, str], set[str]] = {}
    for alert in alerts:
        ids_by_rule_and_story.setdefault((alert["rule_id"], alert["story_id"]), set()).add(alert["alert_id"])
    assert all(len(alert_ids) == 1 for alert_ids in ids_by_rule_and_story.values()), "one alert per (rule, story)"
    for path in (SUBSCRIBER_PATH, "hook"):
        deliveries = delivered(path)
        assert set(deliveries) == {alert["alert_id"] for alert in alerts}, f"every alert delivered to /{path}"
        assert set(deliveries.values()) == {1}, f"each alert delivered once to /{path}"


def test_two_instances_of_each_stage_share_the_work_and_keep_every_guarantee(
    stack: Stack, receiver: Receiver, second_instances: dict[str, Instance], subscriber: str
) -> None:
    articles = generate(32, seed=1401, duplicate_fraction=0.25, hit_fraction=0.5)
    ports = {service: (stack.settings.service_port(service), second_instances[service].port) for service in SCALED}
    before = {service: [consumed(port, service) for port in ports[service]] for service in SCALED}
    send(stack, articles)
    check_every_guarantee(stack, receiver, articles)
    for service, (first, second) in ports.items():
        took = [consumed(first, service) - before[service][0], consumed(second, service) - before[service][1]]
        assert all(count > 0 for count in took), f"both {service} instances took articles: {took}"


def test_a_killed_instance_loses_nothing_while_the_group_rebalances(
    stack: Stack, receiver: Receiver, second_instances: dict[str, Instance], subscriber: str
) -> None:
    for instance in second_instances.values():
        os.kill(instance.process.process.pid, signal.SIGKILL)
        instance.process.process.wait(10)
    # Sent at once: the partitions of the killed instances wait for the group to notice (session
    # timeout) and hand them to the survivors, which also redo whatever was not committed.
    articles = generate(24, seed=1402, duplicate_fraction=0.25, hit_fraction=0.5)
    send(stack, articles)
    check_every_guarantee(stack, receiver, articles)
    assert not stack.dead_services(), "the session's own instances kept running"
