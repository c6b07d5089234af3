"""A silence holds an alert back from a digest subscriber too, and its next digest lists it, marked."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.notifier.channels.notice import AlertNotice
from services.notifier.dispatch import Dispatcher
from services.notifier.webhooks.subscriptions import Subscription
from shared.rule_directory import RuleEntry
from tests.unit.notifier.test_dispatch import Queue, RafahSilence, Rules, Subscribers, alert, subscription


@dataclass
class Kept:
    notices: list[tuple[str, AlertNotice]] = field(default_factory=list)

    async def add(self, subscription: Subscription, notice: AlertNotice) -> None:
        self.notices.append((subscription.id, notice))


async def test_a_silenced_alert_is_recorded_and_kept_for_the_digest_marked_with_the_silence() -> None:
    kept, queue = Kept(), Queue()
    dispatcher = Dispatcher(queue, Subscribers([subscription("sub_quiet", digest={"every_s": 60})]),
                            Rules({"rafah": RuleEntry("rafah")}), silences=RafahSilence(), digests=kept)
    routing = await dispatcher.dispatch(AlertNotice("alert.fired", alert("rafah")))
    assert routing.silenced == 1 and queue.items == {}
    assert queue.silenced == {("al-rafah", "https://hooks.example/sub_quiet"): "sil_1"}
    assert [(sub_id, notice.alert.alert_id, notice.silence_id) for sub_id, notice in kept.notices] == [
        ("sub_quiet", "al-rafah", "sil_1")]


async def test_an_urgent_silenced_alert_is_only_recorded() -> None:
    kept, queue = Kept(), Queue()
    dispatcher = Dispatcher(queue, Subscribers([subscription("sub_quiet", digest={"every_s": 60})]),
                            Rules({"rafah": RuleEntry("rafah", priority="urgent")}), silences=RafahSilence(),
                            digests=kept)
    await dispatcher.dispatch(AlertNotice("alert.fired", alert("rafah")))
    assert kept.notices == [] and queue.items == {} and len(queue.silenced) == 1
