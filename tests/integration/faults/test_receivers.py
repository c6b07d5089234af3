"""Misbehaving webhook receivers on the running stack: one down for 60 s, one that hangs on its headers,
one that answers 500 then 200. Each gets every alert of its rule accepted exactly once, and a healthy
subscriber of the same alerts is never held up by it.

Each test subscribes its receivers, through the API, to a watch rule of its own (a made-up word), so
the rest of the session's alerts never reach them; rule and subscriptions are deleted afterwards.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

import pytest

from newsmon.stack import Stack
from tests.integration.conftest import metric, produce, read_json_topic
from tests.integration.receiver import Receiver
from tests.integration.test_alerter_rules import story
from tests.integration.test_notifier_api import call, subscribe
from tests.waiting import wait_until

DOWN_S = 60


class WatchedWord:
    """An API rule firing on one made-up word, and the subscriptions made for it in a test."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.rule_id = f"fault-{uuid.uuid4().hex[:8]}"
        self.word = f"vornite{uuid.uuid4().hex[:6]}"
        self.subscriptions: list[str] = []

    def subscribe(self, receiver: Receiver) -> None:
        self.subscriptions.append(subscribe(self.stack, receiver.url(), rules=[self.rule_id])["id"])

    def articles(self, count: int) -> list[tuple[bytes, bytes]]:
        return [story(f"Traders reported {self.word} shortages, story {uuid.uuid4().hex[:8]}.") for _ in range(count)]


@pytest.fixture
def watched(stack: Stack) -> Iterator[WatchedWord]:
    watched = WatchedWord(stack)
    status, body = call(stack, "PUT", f"/api/rules/{watched.rule_id}",
                        {"name": f"Any {watched.word} mention", "sentence": {"any": [watched.word]}})
    assert status == 201, body
    yield watched
    for subscription_id in watched.subscriptions:
        call(stack, "DELETE", f"/api/subscriptions/{subscription_id}")
    call(stack, "DELETE", f"/api/rules/{watched.rule_id}")


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    """Receivers a test makes; all stopped after it."""
    made: list[Receiver] = []
    yield made
    for receiver in made:
        receiver.stop()


def alert_ids(stack: Stack, articles: list[tuple[bytes, bytes]]) -> set[str]:
    """The alert ids the alerter published for these articles (each must appear once)."""
    keys = {key.decode() for key, _ in articles}
    published = Counter(alert["alert_id"] for alert in read_json_topic(stack.settings, "alerts")
                        if alert.get("article_id") in keys)
    assert set(published.values()) == {1}, f"each alert once on the alerts topic: {published}"
    return set(published)


def wait_for_every_alert(receiver: Receiver, expected: set[str], timeout: float, what: str) -> None:
    wait_until(lambda: set(receiver.accepted()) == expected, timeout,
               lambda: f"{what}: {len(receiver.accepted())} of {len(expected)} alerts accepted")
    assert set(receiver.accepted().values()) == {1}, "each webhook-id accepted once"


def delivery_delays_s(receiver: Receiver) -> list[float]:
    """Seconds from each alert's firing to its arrival at the receiver."""
    return [request.arrived_at - datetime.fromisoformat(request.json["fired_at"]).timestamp()
            for request in receiver.snapshot() if request.answered == 200]


def test_a_receiver_down_for_60s_gets_every_alert_once_when_it_is_back(
    stack: Stack, watched: WatchedWord, receivers: list[Receiver]
) -> None:
    down, healthy = Receiver(), Receiver().start()  # `down` refuses connections
    receivers += [down, healthy]
    watched.subscribe(down)
    watched.subscribe(healthy)
    articles = watched.articles(3)
    went_down = time.monotonic()
    produce(stack.settings, "articles.enriched", articles)

    wait_until(lambda: len(healthy.accepted()) == 3, 60, "the healthy subscriber's alerts, meanwhile")
    expected = alert_ids(stack, articles)
    wait_for_every_alert(healthy, expected, 5, "the healthy subscriber")
    retries = metric(stack, "notifier", "newsmon_webhook_deliveries_total", outcome="retry")
    assert retries > 0

    time.sleep(max(0.0, DOWN_S - (time.monotonic() - went_down)))  # the outage itself lasts DOWN_S
    down.start()
    back = time.monotonic()
    wait_for_every_alert(down, expected, 180, "the receiver that was down")
    print(f"\nreceiver down {DOWN_S}s: every alert accepted {time.monotonic() - back:.1f}s after it was back; "
          f"healthy subscriber got its alerts within {max(delivery_delays_s(healthy)):.2f}s of firing")


def test_a_receiver_that_hangs_on_its_headers_delays_only_itself(
    stack: Stack, watched: WatchedWord, receivers: list[Receiver]
) -> None:
    per_destination, deadline_s = (stack.settings.webhook_per_destination_concurrency,
                                   stack.settings.webhook_attempt_deadline_s)
    hanging, healthy = Receiver(mode="hang").start(), Receiver().start()
    receivers += [hanging, healthy]
    watched.subscribe(hanging)
    watched.subscribe(healthy)
    articles = watched.articles(per_destination + 2)
    produce(stack.settings, "articles.enriched", articles)

    wait_until(lambda: len(healthy.accepted()) == len(articles), 60, "the healthy subscriber's alerts")
    expected = alert_ids(stack, articles)
    wait_for_every_alert(healthy, expected, 5, "the healthy subscriber")
    delays = delivery_delays_s(healthy)
    assert hanging.most_hanging <= per_destination, "the hanging receiver holds its own slots, no more"

    def cut_at_the_deadline() -> int:
        return len([request for request in hanging.snapshot() if request.answered is None])

    wait_until(lambda: cut_at_the_deadline() >= per_destination, 3 * deadline_s + 30,
               f"the first {per_destination} attempts to be given up at the {deadline_s:g}s deadline")
    hanging.mode = "answer"
    recovered = time.monotonic()
    wait_for_every_alert(hanging, expected, 120, "the receiver that hung, once it answers")
    print(f"\nreceiver hanging on its headers: healthy subscriber got {len(delays)} alerts "
          f"{statistics.median(delays):.2f}s (median) / {max(delays):.2f}s (max) after firing; "
          f"the hanging one got all {time.monotonic() - recovered:.1f}s after it answered again")


def test_a_receiver_that_answers_500_then_200_gets_each_alert_once(
    stack: Stack, watched: WatchedWord, receivers: list[Receiver]
) -> None:
    flaky = Receiver(mode="fail_first").start()
    receivers.append(flaky)
    watched.subscribe(flaky)
    articles = watched.articles(3)
    produce(stack.settings, "articles.enriched", articles)

    wait_until(lambda: len(flaky.accepted()) == 3, 60, "every alert accepted after one 500 each")
    expected = alert_ids(stack, articles)
    wait_for_every_alert(flaky, expected, 5, "the flaky receiver")
    answers: dict[str, list[int | None]] = {}
    for request in flaky.snapshot():
        answers.setdefault(request.webhook_id, []).append(request.answered)
    assert answers == {alert_id: [500, 200] for alert_id in expected}
