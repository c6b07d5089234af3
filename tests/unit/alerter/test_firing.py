"""The alerter's firing sequence on in-memory twins: each alert published once per story, acknowledged
before it counts as published, and a crash in between publishes it again, never loses it."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.alerter.alert_log import MemoryAlertLog
from services.alerter.firing import AlertFiring
from services.alerter.rule_engine.rulebook import RuleBook
from shared.schemas import Alert, EnrichedArticle, ModelInfo, Sentence

RULES = """
rules:
  - id: rafah
    name: Any Rafah mention
    sentence: {all: [{any: [Rafah]}]}
  - id: quiet-rafah
    name: Rafah, at most once an hour
    sentence: {all: [{any: [crossing]}]}
    cooldown: 1h
"""


def article(article_id: str, story_id: str, text: str) -> EnrichedArticle:
    return EnrichedArticle(article_id=article_id, story_id=story_id, content_hash="h", text=text, source="wire",
                           sentences=[Sentence(start=0, end=len(text))], mentions=[], entities=[],
                           model=ModelInfo(name="t", version="0"))


class Broker:
    """The alerts topic: what was published, in order."""

    def __init__(self, steps: list[str]) -> None:
        self.published: list[Alert] = []
        self.steps = steps

    async def __call__(self, alert: Alert) -> None:
        self.published.append(alert)
        self.steps.append(f"publish {alert.rule_id}")


class Log(MemoryAlertLog):
    def __init__(self, steps: list[str]) -> None:
        super().__init__()
        self.steps = steps
        self.fail_next = False

    async def mark_published(self, alert_id: str) -> None:
        if self.fail_next:
            self.fail_next = False
            raise ConnectionError("Redis went away")
        self.steps.append("mark published")
        await super().mark_published(alert_id)


@pytest.fixture
def steps() -> list[str]:
    return []


@pytest.fixture
def firing(steps: list[str], tmp_path: Path) -> AlertFiring:
    rules_file = tmp_path / "watch.yaml"
    rules_file.write_text(RULES)
    return AlertFiring(RuleBook(rules_file), Log(steps), Broker(steps))


async def test_an_alert_is_published_then_marked(firing: AlertFiring, steps: list[str]) -> None:
    [alert] = await firing.on_article(article("a1", "s1", "Troops moved on Rafah."))
    assert steps == ["publish rafah", "mark published"]
    assert alert.rule_id == "rafah" and alert.story_id == "s1"


async def test_every_copy_and_redelivery_of_a_story_gives_one_alert(firing: AlertFiring) -> None:
    first = await firing.on_article(article("a1", "s1", "Troops moved on Rafah."))
    again = await firing.on_article(article("a1", "s1", "Troops moved on Rafah."))
    copy = await firing.on_article(article("a2", "s1", "Troops have moved on Rafah, Israel said."))
    other_story = await firing.on_article(article("a3", "s2", "Aid reached Rafah."))
    assert [len(first), len(again), len(copy), len(other_story)] == [1, 0, 0, 1]
    assert first[0].alert_id != other_story[0].alert_id


async def test_a_crash_after_publishing_publishes_the_same_alert_again(
    firing: AlertFiring, steps: list[str]
) -> None:
    assert isinstance(firing.log, Log) and isinstance(firing.publish, Broker)
    firing.log.fail_next = True
    with pytest.raises(ConnectionError):
        await firing.on_article(article("a1", "s1", "Troops moved on Rafah."))
    assert steps == ["publish rafah"], "not marked published: the redelivery must publish again"

    [alert] = await firing.on_article(article("a1", "s1", "Troops moved on Rafah."))
    assert [published.alert_id for published in firing.publish.published] == [alert.alert_id] * 2
    assert steps[-1] == "mark published"


async def test_a_cooldown_holds_back_other_stories_for_good(firing: AlertFiring) -> None:
    [first] = await firing.on_article(article("a1", "s1", "The crossing reopened."))
    assert await firing.on_article(article("a2", "s2", "The crossing closed again.")) == []
    assert isinstance(firing.log, MemoryAlertLog)
    firing.log.cooldowns.clear()  # the hour has passed
    assert await firing.on_article(article("a2", "s2", "The crossing closed again.")) == [], "never sent late"
    assert first.rule_id == "quiet-rafah"
