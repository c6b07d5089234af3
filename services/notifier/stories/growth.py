"""When a story that alerted has grown enough to tell its subscribers again: pure rules, no I/O.

A story's state counts its outlets (from dedupe's ``articles.duplicates``), the outlet threshold
last reported, the watched entities seen in its alerts, and when the last update went out. Two
things make an ``alert.updated``: a copy that takes the story past an outlet threshold not reported
yet (``NEWSMON_UPDATE_OUTLET_THRESHOLDS``, 3, 10, 30), or an alert of another rule on the story that
names an entity of a watched kind (``NEWSMON_UPDATE_ENTITY_LABELS``) none of its alerts named. At
most one update per story per ``NEWSMON_UPDATE_MIN_INTERVAL_S``: a threshold crossed meanwhile is
reported by the next copy after the interval, an entity by the next alert that names it.

Copies are not enriched (only a story's first article goes through ner), so entities come from the
story's alerts, not from its copies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from shared.schemas import Alert

# How an update names a new entity's kind, by spaCy label.
KIND_NAMES = {"PERSON": "person", "ORG": "organization", "GPE": "place", "LOC": "location", "NORP": "group",
              "FAC": "facility", "EVENT": "event"}


@dataclass(frozen=True)
class UpdatePolicy:
    """The settings that decide updates."""

    thresholds: tuple[int, ...] = (3, 10, 30)
    min_interval_s: float = 600.0
    watched_labels: frozenset[str] = frozenset({"PERSON", "ORG", "GPE"})


@dataclass(frozen=True)
class StoryState:
    """What the notifier remembers of one story."""

    alerted: bool = False
    outlets: int = 1
    reported_threshold: int = 0
    sequence: int = 0
    last_update_s: float | None = None
    entities: frozenset[str] = field(default_factory=frozenset)
    first_seen_s: float | None = None


@dataclass(frozen=True)
class Update:
    """One ``alert.updated`` of a story: its sequence number (1, 2, ...), outlets then, and why."""

    sequence: int
    outlets: int
    reason: str


def watched_entities(alert: Alert, labels: Iterable[str]) -> frozenset[str]:
    """``LABEL:canonical name`` of each mention of a watched kind in the alert's sentences."""
    watched = set(labels)
    return frozenset(f"{mention.label}:{mention.canonical}" for mention in alert.mentions if mention.label in watched)


def on_copy(state: StoryState, outlets: int, now_s: float, policy: UpdatePolicy) -> tuple[StoryState, Update | None]:
    """A copy of the story, carried by ``outlets`` outlets so far (dedupe's count)."""
    state = replace(state, outlets=max(state.outlets, outlets))
    crossed = [threshold for threshold in policy.thresholds if state.reported_threshold < threshold <= state.outlets]
    if not state.alerted or not crossed or _too_soon(state, now_s, policy):
        return state, None
    update = Update(state.sequence + 1, state.outlets, f"now {state.outlets} outlets")
    return replace(state, reported_threshold=max(crossed), sequence=update.sequence, last_update_s=now_s), update


def on_alert(state: StoryState, entities: frozenset[str], now_s: float,
             policy: UpdatePolicy) -> tuple[StoryState, Update | None]:
    """An alert on the story (the first, or one of another rule): ``entities`` as ``watched_entities`` gives them."""
    if not state.alerted:
        reported = max((threshold for threshold in policy.thresholds if threshold <= state.outlets), default=0)
        return replace(state, alerted=True, reported_threshold=reported, entities=entities, first_seen_s=now_s), None
    new = sorted(entities - state.entities)
    if not new or _too_soon(state, now_s, policy):
        return state, None
    update = Update(state.sequence + 1, state.outlets, "; ".join(_describe(entity) for entity in new))
    return replace(state, sequence=update.sequence, last_update_s=now_s, entities=state.entities | entities), update


def _too_soon(state: StoryState, now_s: float, policy: UpdatePolicy) -> bool:
    return state.last_update_s is not None and now_s - state.last_update_s < policy.min_interval_s


def _describe(entity: str) -> str:
    label, _, name = entity.partition(":")
    return f"new {KIND_NAMES.get(label, label.lower())}: {name}"
