"""Silences: hold back the alerts that match, for a while, without touching the ``alerts`` topic.

A silence has matchers (any of ``rule``, ``story_id``, ``subscription``; at least one, all must
match) and an end, given as ``duration_s`` or ``ends_at`` and never more than ``MAX_SILENCE_S``
away, as Alertmanager's silences have. These are the pure rules: what a valid request is, and
which silence, if any, holds back one alert for one subscriber. ``silence_store.py`` keeps them in
Redis, where each one expires on its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.schemas import utcnow

MAX_SILENCE_S = 90 * 24 * 3600
MAX_COMMENT_CHARS = 1000


class SilenceMatchers(BaseModel):
    """What a silence holds back: alerts of this rule, of this story, to this subscription (all given must match)."""

    model_config = ConfigDict(extra="forbid")

    rule: str | None = Field(default=None, min_length=1, description="A rule id.")
    story_id: str | None = Field(default=None, min_length=1)
    subscription: str | None = Field(default=None, min_length=1, description="A subscription id.")

    @model_validator(mode="after")
    def _not_empty(self) -> SilenceMatchers:
        # A silence without matchers would hold back every alert for everyone: almost always a mistake.
        if self.rule is None and self.story_id is None and self.subscription is None:
            raise ValueError("give at least one of rule, story_id, subscription")
        return self

    def match(self, rule_id: str, story_id: str, subscription_id: str) -> bool:
        """True when every matcher given equals the alert's (or the subscriber's) value."""
        return ((self.rule is None or self.rule == rule_id)
                and (self.story_id is None or self.story_id == story_id)
                and (self.subscription is None or self.subscription == subscription_id))


class NewSilence(BaseModel):
    """The body of ``POST /api/silences``: matchers, and exactly one of ``duration_s`` and ``ends_at``."""

    model_config = ConfigDict(extra="forbid")

    matchers: SilenceMatchers
    duration_s: float | None = Field(default=None, gt=0, le=MAX_SILENCE_S)
    ends_at: datetime | None = Field(default=None, description="With a time zone (2026-12-07T08:00:00Z).")
    comment: str = Field(default="", max_length=MAX_COMMENT_CHARS, description="Why, for whoever reads the list.")

    @model_validator(mode="after")
    def _one_end(self) -> NewSilence:
        if (self.duration_s is None) == (self.ends_at is None):
            raise ValueError("give exactly one of duration_s and ends_at: a silence must end")
        if self.ends_at is not None and self.ends_at.tzinfo is None:
            raise ValueError("ends_at: give a time zone, e.g. 2026-12-07T08:00:00Z")
        return self


class Silence(BaseModel):
    """A silence as stored and listed; active from ``starts_at`` until ``ends_at``."""

    id: str
    matchers: SilenceMatchers
    starts_at: datetime
    ends_at: datetime
    comment: str = ""

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def holds(self, rule_id: str, story_id: str, subscription_id: str, now: datetime) -> bool:
        """True when this silence holds back that alert for that subscriber at ``now``."""
        return self.active(now) and self.matchers.match(rule_id, story_id, subscription_id)


class SilenceRefused(ValueError):
    """A silence request that cannot become a silence; the message names the field."""


def new_silence_id() -> str:
    return "sil_" + secrets.token_hex(8)


def silence_from_request(request: NewSilence, now: datetime | None = None, silence_id: str | None = None) -> Silence:
    """The silence a valid request asks for, starting ``now``; ``SilenceRefused`` when its end is not ahead.

    ``ends_at`` is checked here rather than in ``NewSilence`` because it depends on the clock.
    """
    now = now or utcnow()
    if request.ends_at is not None:
        ends_at = request.ends_at
        if ends_at <= now:
            raise SilenceRefused(f"ends_at: {ends_at.isoformat()} is not in the future")
        if ends_at - now > timedelta(seconds=MAX_SILENCE_S):
            raise SilenceRefused(f"ends_at: at most {MAX_SILENCE_S // 86400} days ahead")
    else:
        assert request.duration_s is not None  # NewSilence guarantees one of the two
        ends_at = now + timedelta(seconds=request.duration_s)
    return Silence(id=silence_id or new_silence_id(), matchers=request.matchers, starts_at=now, ends_at=ends_at,
                   comment=request.comment)


def first_holding(silences: Iterable[Silence], rule_id: str, story_id: str, subscription_id: str,
                  now: datetime) -> Silence | None:
    """The silence that holds back the alert for the subscriber: of those that do, the oldest (then lowest id).

    Deterministic, so two notifier instances record the same silence id for the same alert.
    """
    holding = [silence for silence in silences if silence.holds(rule_id, story_id, subscription_id, now)]
    return min(holding, key=lambda silence: (silence.starts_at, silence.id), default=None)
