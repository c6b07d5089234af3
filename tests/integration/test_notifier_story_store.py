"""Story state on the stack's real Redis, as two notifier instances change it at once: every copy is
counted, each update gets its own sequence number, none is decided twice, and a redelivered copy gets
the decision it got the first time."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from newsmon.stack import Stack
from services.notifier.stories.growth import StoryState, Update, UpdatePolicy, on_alert, on_copy
from services.notifier.stories.store import StoryStore
from shared.schemas import Alert, MatchedSentence

POLICY = UpdatePolicy(thresholds=(3, 10, 30), min_interval_s=0.0, watched_labels=frozenset({"ORG"}))


@pytest.fixture
async def instances(stack: Stack) -> AsyncIterator[tuple[StoryStore, StoryStore]]:
    """Two stores on two connections, as two notifier instances have, under a prefix of this test's own."""
    prefix = f"test:story_updates:{uuid.uuid4().hex}"
    first, second = Redis.from_url(stack.settings.redis), Redis.from_url(stack.settings.redis)
    yield StoryStore(first, key_prefix=prefix), StoryStore(second, key_prefix=prefix)
    for client in (first, second):
        await client.aclose()


def alert(story_id: str) -> Alert:
    return Alert(alert_id=f"al-{story_id}", rule_id="rafah", rule_name="Rafah", article_id=story_id,
                 story_id=story_id, title="Crossing reopens", source="wire",
                 sentences=[MatchedSentence(text="The Rafah crossing reopened.", start=0, end=28)])


async def copy(store: StoryStore, story_id: str, number: int) -> tuple[StoryState, Update | None]:
    return await store.apply(story_id, f"copy:c{number}", lambda state: on_copy(state, number, 1000.0 + number, POLICY))


async def test_two_instances_counting_copies_at_once_decide_each_update_once(
    instances: tuple[StoryStore, StoryStore]
) -> None:
    first, second = instances
    await first.apply("s1", "alert:al-s1", lambda state: on_alert(state, frozenset(), 1000.0, POLICY), alert("s1"))
    results = await asyncio.gather(*(copy(first if number % 2 else second, "s1", number) for number in range(2, 22)))

    updates = sorted((update for _, update in results if update is not None), key=lambda update: update.sequence)
    assert [update.sequence for update in updates] == list(range(1, len(updates) + 1)), "no sequence twice"
    assert 1 <= len(updates) <= 2, "3 and 10 crossed, together or one after the other"
    final, _ = await first.apply("s1", "copy:probe", lambda state: (state, None))
    assert (final.outlets, final.reported_threshold, final.sequence) == (21, 10, len(updates))
    assert [alert.alert_id for alert in await second.alerts("s1")] == ["al-s1"]


async def test_a_redelivered_copy_gets_its_first_decision(instances: tuple[StoryStore, StoryStore]) -> None:
    first, second = instances
    await first.apply("s2", "alert:al-s2", lambda state: on_alert(state, frozenset(), 1000.0, POLICY), alert("s2"))
    _, decided = await copy(first, "s2", 3)
    _, again = await copy(second, "s2", 3)
    assert decided == again == Update(1, 3, "now 3 outlets")
    _, later = await copy(second, "s2", 4)
    assert later is None
