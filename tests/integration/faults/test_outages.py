"""Dependency outages on the running stack are waits: Redis or the broker paused for 20 s mid-stream,
and broken rule edits while articles flow. Each test checks what a subscriber sees: every expected alert delivered,
each ``webhook-id`` once on the ``alerts`` topic and once at the receiver, nothing dead-lettered
because of the outage, /readyz not ready with the reason during it and ready again by itself after.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from newsmon.embedded import ManagedProcess
from newsmon.stack import Stack
from services.alerter.rule_engine.rules import default_rules_text
from shared.schemas import RawArticle
from shared.settings import SERVICE_NAMES, ServiceName
from tests.integration.conftest import metric, produce, read_json_topic
from tests.integration.receiver import Receiver
from tests.integration.test_notifier_api import call
from tests.waiting import wait_until

PAUSE_S = 20
# Services whose /readyz checks Redis; ner uses none.
REDIS_USERS: tuple[ServiceName, ...] = ("fetcher", "dedupe", "alerter", "notifier")
WORDS = ["harbour", "convoy", "ministry", "tariff", "glacier", "orchard", "vaccine", "satellite", "parliament",
         "drought", "refinery", "embassy", "festival", "reactor", "pipeline", "verdict", "ceasefire", "election"]


def rafah_articles(count: int, tag: str) -> list[tuple[bytes, bytes]]:
    """Raw articles of distinct stories, each mentioning Rafah once (the shipped ``rafah`` rule)."""
    articles = []
    for number in range(count):
        filler = " ".join(f"{random.choice(WORDS)}{random.randint(0, 9999)}" for _ in range(40))
        text = f"Shelling was reported near Rafah on the {number}th day. {filler}. Report {tag}-{number}."
        article = RawArticle(article_id=f"outage-{tag}-{number}", title=f"Rafah report {tag}-{number}", text=text,
                             source="tests/outages")
        articles.append((article.article_id.encode(), article.model_dump_json().encode()))
    return articles


def readiness(stack: Stack, name: ServiceName) -> tuple[bool, dict[str, str]]:
    """(ready, reasons) as an operator reads them on /readyz."""
    try:
        with urllib.request.urlopen(stack.url(name, "/readyz"), timeout=5) as response:
            return True, json.loads(response.read()).get("reasons", {})
    except urllib.error.HTTPError as error:
        return False, json.loads(error.read()).get("reasons", {})


def not_ready_because(stack: Stack, name: ServiceName) -> dict[str, str] | None:
    """The reasons /readyz gives while the service is not ready; None while it is."""
    ready, reasons = readiness(stack, name)
    return None if ready else reasons


def all_ready(stack: Stack) -> bool:
    return all(readiness(stack, name)[0] for name in SERVICE_NAMES)


def seen_by_subscriber(receiver: Receiver, article_ids: set[str]) -> Counter[str]:
    """webhook-id -> deliveries, for the alerts of these articles."""
    return Counter(hit.headers["webhook-id"] for hit in receiver.snapshot()
                   if hit.json.get("article_id") in article_ids)


def on_alerts_topic(stack: Stack, article_ids: set[str]) -> Counter[str]:
    return Counter(alert["alert_id"] for alert in read_json_topic(stack.settings, "alerts")
                   if alert.get("article_id") in article_ids)


def dead_letters_of(stack: Stack, article_ids: set[str]) -> list[dict[str, Any]]:
    return [letter for service in ("dedupe", "ner", "alerter")
            for letter in read_json_topic(stack.settings, f"dead-letter.{service}") if letter.get("key") in article_ids]


def assert_every_alert_once(stack: Stack, receiver: Receiver, article_ids: set[str], timeout: float) -> float:
    """Each article's rafah alert reaches the subscriber, once, and is on the alerts topic once.

    Returns the moment (``time.monotonic``) the last alert was seen at the subscriber.
    """
    def count() -> int:
        return len(seen_by_subscriber(receiver, article_ids))

    wait_until(lambda: count() == len(article_ids), timeout,
               lambda: f"{len(article_ids)} alerts at the subscriber, got {count()}", interval=0.05)
    all_seen_at = time.monotonic()
    delivered = seen_by_subscriber(receiver, article_ids)
    assert set(delivered.values()) == {1}, f"each webhook-id once at the subscriber: {delivered}"
    published = on_alerts_topic(stack, article_ids)
    assert published == delivered, "each alert once on the alerts topic, the same ones the subscriber got"
    assert dead_letters_of(stack, article_ids) == [], "nothing dead-lettered because of the outage"
    return all_seen_at


def continued_after(stack: Stack, name: str) -> Iterator[ManagedProcess]:
    """The session's infrastructure process ``name``, continued after the test whatever happened."""
    [infrastructure] = [process for process in stack.infrastructure if process.name == name]
    yield infrastructure
    os.kill(infrastructure.process.pid, signal.SIGCONT)
    wait_until(lambda: all_ready(stack), 120, f"every service ready after the {name} test")


@pytest.fixture
def redis_process(stack: Stack) -> Iterator[ManagedProcess]:
    """The session's redis-server."""
    yield from continued_after(stack, "redis")


def test_redis_paused_for_20s_mid_stream_is_a_wait_and_nothing_is_lost_or_repeated(
    stack: Stack, receiver: Receiver, redis_process: ManagedProcess
) -> None:
    tag = uuid.uuid4().hex[:8]
    before, during, after = rafah_articles(3, f"{tag}-a"), rafah_articles(3, f"{tag}-b"), rafah_articles(3, f"{tag}-c")
    ids = {key.decode() for key, _ in before + during + after}
    reload_failures = metric(stack, "alerter", "newsmon_background_failures_total", job="rules_reload")

    produce(stack.settings, "articles.raw", before)
    os.kill(redis_process.process.pid, signal.SIGSTOP)
    paused_at = time.monotonic()
    produce(stack.settings, "articles.raw", during)

    for name in REDIS_USERS:
        reasons = wait_until(lambda name=name: not_ready_because(stack, name), 15,
                             f"{name} to report not ready while Redis is paused")
        assert reasons["redis_reachable"] == (f"Redis at 127.0.0.1:{stack.settings.embedded_redis_port} did not "
                                              "answer PING within 1.2s"), reasons
    assert readiness(stack, "ner")[0], "ner needs no Redis and stays ready"
    status, body = call(stack, "GET", "/api/subscriptions")
    assert status == 503 and "Redis at" in body["error"], "the API says why instead of failing or hanging"
    wait_until(lambda: metric(stack, "alerter", "newsmon_background_failures_total", job="rules_reload")
               > reload_failures, 30,
               "the rule refresh to meet the outage (it used to take the alerter down)")

    time.sleep(max(0.0, PAUSE_S - (time.monotonic() - paused_at)))  # the outage itself lasts PAUSE_S
    os.kill(redis_process.process.pid, signal.SIGCONT)
    resumed_at = time.monotonic()
    wait_until(lambda: all_ready(stack), 60, "every service ready again by itself")
    ready_after_s = time.monotonic() - resumed_at
    held_up = {key.decode() for key, _ in before + during}
    caught_up_s = assert_every_alert_once(stack, receiver, held_up, 120) - resumed_at

    produce(stack.settings, "articles.raw", after)
    assert_every_alert_once(stack, receiver, ids, 120)
    assert stack.dead_services() == [], "no service died of the outage"
    print(f"\nredis paused {PAUSE_S}s: ready {ready_after_s:.2f}s after SIGCONT, the {len(held_up)} alerts "
          f"held up delivered {caught_up_s:.1f}s after SIGCONT")


@pytest.fixture
def broker_process(stack: Stack) -> Iterator[ManagedProcess]:
    """The session's embedded broker (tansu, behind its relay)."""
    yield from continued_after(stack, "broker")


def test_the_broker_paused_for_20s_mid_stream_is_a_wait_and_nothing_is_lost_or_repeated(
    stack: Stack, receiver: Receiver, broker_process: ManagedProcess
) -> None:
    tag = uuid.uuid4().hex[:8]
    before, after = rafah_articles(4, f"{tag}-a"), rafah_articles(3, f"{tag}-c")
    ids = {key.decode() for key, _ in before + after}

    produce(stack.settings, "articles.raw", before)  # in the pipeline when the broker stops answering
    os.kill(broker_process.process.pid, signal.SIGSTOP)
    paused_at = time.monotonic()
    for name in SERVICE_NAMES:
        reasons = wait_until(lambda name=name: not_ready_because(stack, name), 15,
                             f"{name} to report not ready while the broker is paused")
        assert reasons["broker_reachable"] == f"no broker of {stack.settings.bootstrap} answered within 1.2s", reasons

    time.sleep(max(0.0, PAUSE_S - (time.monotonic() - paused_at)))  # the outage itself lasts PAUSE_S
    os.kill(broker_process.process.pid, signal.SIGCONT)
    resumed_at = time.monotonic()
    wait_until(lambda: all_ready(stack), 60, "every service ready again by itself")
    ready_after_s = time.monotonic() - resumed_at
    caught_up_s = assert_every_alert_once(stack, receiver, {key.decode() for key, _ in before}, 120) - resumed_at

    produce(stack.settings, "articles.raw", after)
    assert_every_alert_once(stack, receiver, ids, 120)
    assert stack.dead_services() == [], "no service died of the outage"
    print(f"\nbroker paused {PAUSE_S}s: ready {ready_after_s:.2f}s after SIGCONT, the {len(before)} alerts "
          f"held up delivered {caught_up_s:.1f}s after SIGCONT")


BOMB = ('x: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"y{level}: &{chr(98 + level)} [{','.join([f'*{chr(97 + level)}'] * 9)}]\n" for level in range(8)))


def reload_errors(stack: Stack) -> float:
    return metric(stack, "alerter", "newsmon_rule_reloads_total", outcome="error")


def logged_reload_failures(stack: Stack) -> list[str]:
    return [json.loads(line)["error"] for line in (stack.log_dir / "alerter.log").read_text().splitlines()
            if '"rules.reload_failed"' in line]


@pytest.fixture
def rules_file(stack: Stack) -> Iterator[Path]:
    """The running alerter's rule file; the shipped rules are back (and active) after the test."""
    path = stack.settings.rules_path
    assert path is not None
    yield path
    done = metric(stack, "alerter", "newsmon_rule_reloads_total", outcome="ok")
    path.write_text(default_rules_text())
    wait_until(lambda: metric(stack, "alerter", "newsmon_rule_reloads_total", outcome="ok") > done, 60,
               "the shipped rules to be active again")


def refuse_while_articles_flow(stack: Stack, receiver: Receiver, rules_file: Path, edit: Callable[[], object],
                               expected: str) -> None:
    """Make a broken edit between two articles; the edit is refused, named, and both articles still alert."""
    tag, active, errors = uuid.uuid4().hex[:8], metric(stack, "alerter", "newsmon_rules_active"), reload_errors(stack)
    first, second = rafah_articles(2, tag)
    produce(stack.settings, "articles.raw", [first])
    edited_at = time.monotonic()
    edit()
    wait_until(lambda: reload_errors(stack) > errors, 30, f"the alerter to refuse the edit ({expected})")
    refused_after_s = time.monotonic() - edited_at
    produce(stack.settings, "articles.raw", [second])

    assert logged_reload_failures(stack)[-1].startswith(f"{rules_file}: {expected}")
    assert reload_errors(stack) == errors + 1, "counted once"
    assert metric(stack, "alerter", "newsmon_rules_active") == active, "the previous rules stay active"
    assert_every_alert_once(stack, receiver, {first[0].decode(), second[0].decode()}, 120)
    print(f"\nrule edit refused ({expected}) {refused_after_s:.2f}s after it was written")


def test_broken_rule_edits_while_articles_flow_keep_the_previous_rules_and_the_alerter_up(
    stack: Stack, receiver: Receiver, rules_file: Path
) -> None:
    alerter_pid = stack.services["alerter"].process.pid

    refuse_while_articles_flow(stack, receiver, rules_file, lambda: rules_file.write_bytes(
        default_rules_text().encode() + b"\n# caf\xe9\n"), "not UTF-8 text: byte 0xe9")
    refuse_while_articles_flow(stack, receiver, rules_file, lambda: rules_file.write_text(BOMB),
                               "refused: aliases expand to more than")

    assert stack.services["alerter"].process.pid == alerter_pid and stack.dead_services() == []
    assert readiness(stack, "alerter")[0]
