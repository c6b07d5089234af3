"""Routing on in-memory twins: who hears a first alert and who an update, and what silences, digests
and urgent rules change; each (message, target) once, however often the alert is seen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from services.notifier.channels.notice import AlertNotice
from services.notifier.dispatch import Dispatcher
from services.notifier.notice_bodies import notice_from_body
from services.notifier.webhooks.queue import Target
from services.notifier.webhooks.subscriptions import Subscription
from shared.rule_directory import RuleEntry
from shared.schemas import Alert, MatchedSentence


def alert(rule_id: str = "rafah", priority: str | None = None) -> Alert:
    return Alert.model_validate({
        "alert_id": f"al-{rule_id}", "rule_id": rule_id, "rule_name": rule_id.title(), "article_id": "a1",
        "story_id": "s1", "title": "Crossing reopens", "source": "wire", "priority": priority,
        "sentences": [MatchedSentence(text="The Rafah crossing reopened.", start=0, end=28, matches=[]).model_dump()],
    })


def fired(rule_id: str = "rafah", priority: str | None = None) -> AlertNotice:
    return AlertNotice("alert.fired", alert(rule_id, priority))


class Queue:
    """The queue's contract: one item per (message, target), one silenced record per pair."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], str] = {}
        self.silenced: dict[tuple[str, str], str] = {}

    async def enqueue_message(self, message_id: str, body: str, targets: Sequence[Target | str]) -> int:
        added = 0
        for target in targets:
            key = (message_id, target if isinstance(target, str) else target.url)
            if key not in self.items and key not in self.silenced:
                self.items[key] = body
                added += 1
        return added

    async def record_silenced(self, message_id: str, target: Target, silence_id: str) -> bool:
        key = (message_id, target.url)
        if key in self.silenced or key in self.items:
            return False
        self.silenced[key] = silence_id
        return True


@dataclass
class Subscribers:
    subscriptions: list[Subscription]

    async def active_for(self, rule_id: str) -> list[Subscription]:
        return [sub for sub in self.subscriptions if sub.active and sub.wants(rule_id)]


@dataclass
class Rules:
    entries: dict[str, RuleEntry]

    async def get(self, rule_id: str) -> RuleEntry | None:
        return self.entries.get(rule_id)


@dataclass(frozen=True)
class Silence:
    id: str


@dataclass
class RafahSilence:
    """Silences alerts of ``rafah`` for the subscription ``sub_quiet``."""

    async def silencing(self, alert: Alert, subscription_id: str) -> Silence | None:
        return Silence("sil_1") if alert.rule_id == "rafah" and subscription_id == "sub_quiet" else None


@dataclass
class DigestTwin:
    added: list[tuple[str, str]] = field(default_factory=list)

    async def add(self, subscription: Subscription, notice: AlertNotice) -> None:
        self.added.append((subscription.id, notice.alert.alert_id))


def subscription(sub_id: str, **fields: object) -> Subscription:
    return Subscription.model_validate({"id": sub_id, "url": f"https://hooks.example/{sub_id}", "secret": "s" * 16,
                                        **fields})


@pytest.fixture
def digests() -> DigestTwin:
    return DigestTwin()


@pytest.fixture
def dispatcher(digests: DigestTwin) -> Dispatcher:
    subscribers = Subscribers([
        subscription("sub_all"), subscription("sub_updates", updates=True), subscription("sub_quiet"),
        subscription("sub_iran", rules=["iran-sanctions"]), subscription("sub_daily", digest={"every_s": 60}),
    ])
    rules = Rules({"rafah": RuleEntry("rafah", ("https://hooks.example/rule-token",)),
                   "iran-sanctions": RuleEntry("iran-sanctions", priority="urgent")})
    return Dispatcher(Queue(), subscribers, rules, webhook_urls=("https://hooks.example/every",),
                      silences=RafahSilence(), digests=digests)


def urls(dispatcher: Dispatcher, message_id: str) -> set[str]:
    assert isinstance(dispatcher.queue, Queue)
    return {url for (queued_id, url) in dispatcher.queue.items if queued_id == message_id}


async def test_a_first_alert_goes_to_settings_rule_webhooks_and_wanting_subscribers_once(
    dispatcher: Dispatcher, digests: DigestTwin
) -> None:
    routing = await dispatcher.dispatch(fired())
    again = await dispatcher.dispatch(fired())  # redelivered, or seen by a second instance
    assert urls(dispatcher, "al-rafah") == {"https://hooks.example/every", "https://hooks.example/rule-token",
                                            "https://hooks.example/sub_all", "https://hooks.example/sub_updates"}
    assert (routing.queued, routing.silenced, routing.digested) == (4, 1, 1)
    assert (again.queued, again.silenced) == (0, 0)
    assert isinstance(dispatcher.queue, Queue)
    assert dispatcher.queue.silenced == {("al-rafah", "https://hooks.example/sub_quiet"): "sil_1"}
    assert digests.added[0] == ("sub_daily", "al-rafah")


async def test_the_queued_body_is_the_standard_format_with_type_and_sequence(dispatcher: Dispatcher) -> None:
    await dispatcher.dispatch(fired())
    assert isinstance(dispatcher.queue, Queue)
    body = dispatcher.queue.items[("al-rafah", "https://hooks.example/every")]
    notice = notice_from_body(body)
    assert isinstance(notice, AlertNotice)
    assert (notice.type, notice.update_sequence, notice.alert.story_id) == ("alert.fired", 0, "s1")
    assert '"type":"alert.fired"' in body and '"update_sequence":0' in body


async def test_an_update_goes_only_to_subscribers_asking_for_updates(dispatcher: Dispatcher) -> None:
    update = AlertNotice("alert.updated", alert(), outlets=3, update_sequence=1, update_reason="now 3 outlets")
    routing = await dispatcher.dispatch(update)
    assert urls(dispatcher, "al-rafah-u1") == {"https://hooks.example/sub_updates"}
    assert routing.queued == 1


async def test_an_urgent_rule_skips_the_digest(dispatcher: Dispatcher, digests: DigestTwin) -> None:
    dispatcher.subscribers = Subscribers([subscription("sub_daily", digest={"every_s": 60})])
    await dispatcher.dispatch(fired("iran-sanctions"))
    await dispatcher.dispatch(fired("rafah", priority="urgent"))
    assert digests.added == []
    assert urls(dispatcher, "al-iran-sanctions") == {"https://hooks.example/every", "https://hooks.example/sub_daily"}
    assert "https://hooks.example/sub_daily" in urls(dispatcher, "al-rafah")


async def test_a_replay_to_one_subscription_keeps_to_its_silences_and_digest(
    dispatcher: Dispatcher, digests: DigestTwin
) -> None:
    for only in (subscription("sub_quiet"), subscription("sub_daily", digest={"every_s": 60}), subscription("sub_new")):
        await dispatcher.dispatch(fired(), only=only)
    assert urls(dispatcher, "al-rafah") == {"https://hooks.example/sub_new"}, "not the settings' or the rule's URLs"
    assert isinstance(dispatcher.queue, Queue) and len(dispatcher.queue.silenced) == 1
    assert digests.added == [("sub_daily", "al-rafah")]


async def test_a_republished_alert_skips_subscriptions_made_after_it_fired(dispatcher: Dispatcher) -> None:
    """An alert published again on a new broker reaches those it reached before, not a newer subscriber."""
    first = fired()
    earlier = subscription("sub_all", created_at=first.alert.fired_at - timedelta(seconds=1))
    later = subscription("sub_later", created_at=first.alert.fired_at + timedelta(seconds=1))
    dispatcher.subscribers = Subscribers([earlier, later])
    await dispatcher.dispatch(first)
    assert "https://hooks.example/sub_later" not in urls(dispatcher, "al-rafah")
    assert "https://hooks.example/sub_all" in urls(dispatcher, "al-rafah")
    await dispatcher.dispatch(fired(), only=later)  # its replay_hours still has it
    assert "https://hooks.example/sub_later" in urls(dispatcher, "al-rafah")
