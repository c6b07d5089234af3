"""When an alerted story is worth telling again: outlet thresholds once each, new watched entities,
at most one update per interval, nothing before the story alerted."""

from __future__ import annotations

from services.notifier.stories.growth import (
    StoryState,
    UpdatePolicy,
    on_alert,
    on_copy,
    watched_entities,
)
from shared.schemas import Alert, MatchedSentence, Mention

POLICY = UpdatePolicy(thresholds=(3, 10, 30), min_interval_s=60.0, watched_labels=frozenset({"ORG", "GPE"}))


def alerted(outlets: int = 1) -> StoryState:
    state, update = on_alert(StoryState(outlets=outlets), frozenset({"GPE:Rafah"}), 0.0, POLICY)
    assert update is None, "the first alert is alert.fired, not an update"
    return state


def test_each_threshold_is_one_update_as_copies_arrive() -> None:
    state, sent = alerted(), []
    for number, outlets in enumerate([2, 3, 3, 4, 9, 10, 11, 30], start=1):
        state, update = on_copy(state, outlets, number * 100.0, POLICY)
        if update:
            sent.append((update.sequence, update.outlets, update.reason))
    assert sent == [(1, 3, "now 3 outlets"), (2, 10, "now 10 outlets"), (3, 30, "now 30 outlets")]


def test_copies_before_the_alert_count_but_update_nothing() -> None:
    state, update = on_copy(StoryState(), 4, 0.0, POLICY)
    assert update is None and state.outlets == 4
    state = alerted(state.outlets)
    assert state.reported_threshold == 3, "the alert itself said 4 outlets"
    assert on_copy(state, 5, 100.0, POLICY)[1] is None


def test_at_most_one_update_per_interval_and_the_threshold_waits() -> None:
    state, first = on_copy(alerted(), 3, 1000.0, POLICY)
    assert first is not None
    state, held = on_copy(state, 12, 1030.0, POLICY)
    assert held is None, "30 s after the last update"
    state, later = on_copy(state, 12, 1061.0, POLICY)
    assert later is not None and (later.sequence, later.reason) == (2, "now 12 outlets")


def test_a_new_watched_entity_in_another_alert_updates_the_story() -> None:
    state = alerted()
    state, update = on_alert(state, frozenset({"GPE:Rafah", "ORG:European Union"}), 100.0, POLICY)
    assert update is not None and update.reason == "new organization: European Union"
    assert on_alert(state, frozenset({"ORG:European Union"}), 500.0, POLICY)[1] is None, "not new any more"


def test_watched_entities_are_the_mentions_of_watched_kinds() -> None:
    alert = Alert(alert_id="a", rule_id="r", rule_name="R", article_id="x", story_id="s", title="t", source="w",
                  sentences=[MatchedSentence(text="The EU met in Brussels on Monday.", start=0, end=33)],
                  mentions=[Mention(text="EU", label="ORG", start=4, end=6, sentence=0, canonical="European Union"),
                            Mention(text="Monday", label="DATE", start=26, end=32, sentence=0, canonical="Monday")])
    assert watched_entities(alert, POLICY.watched_labels) == frozenset({"ORG:European Union"})
