"""Silence requests and matching: which requests become silences, and which alerts a silence holds back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from services.notifier.silences import (
    MAX_SILENCE_S,
    NewSilence,
    Silence,
    SilenceMatchers,
    SilenceRefused,
    first_holding,
    silence_from_request,
)

NOW = datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)


def silence(silence_id: str, minutes: float = 60, starts_before: float = 0, **matchers: str) -> Silence:
    return Silence(id=silence_id, matchers=SilenceMatchers(**matchers),
                   starts_at=NOW - timedelta(minutes=starts_before), ends_at=NOW + timedelta(minutes=minutes))


def test_a_duration_silence_starts_now_and_ends_after_it() -> None:
    request = NewSilence.model_validate({"matchers": {"rule": "rafah"}, "duration_s": 3600, "comment": "night"})
    made = silence_from_request(request, NOW, "sil_1")
    assert (made.id, made.starts_at, made.ends_at, made.comment) == ("sil_1", NOW, NOW + timedelta(hours=1), "night")
    assert made.matchers.rule == "rafah" and made.matchers.story_id is None


def test_an_ends_at_silence_ends_then() -> None:
    request = NewSilence.model_validate({"matchers": {"story_id": "s1"}, "ends_at": "2026-12-07T08:00:00+01:00"})
    assert silence_from_request(request, NOW).ends_at == datetime(2026, 12, 7, 7, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("body", "field"), [
    ({"matchers": {"rule": "rafah"}}, "duration_s and ends_at"),
    ({"matchers": {"rule": "rafah"}, "duration_s": 60, "ends_at": "2026-12-08T00:00:00Z"}, "duration_s and ends_at"),
    ({"matchers": {}, "duration_s": 60}, "matchers"),
    ({"matchers": {"rule": "rafah", "severity": "x"}, "duration_s": 60}, "severity"),
    ({"matchers": {"rule": "rafah"}, "duration_s": 0}, "duration_s"),
    ({"matchers": {"rule": "rafah"}, "duration_s": MAX_SILENCE_S + 1}, "duration_s"),
    ({"matchers": {"rule": "rafah"}, "ends_at": "2026-12-08T00:00:00"}, "ends_at"),
    ({"matchers": {"rule": "rafah"}, "duration_s": 60, "comment": "x" * 5000}, "comment"),
])
def test_bad_requests_are_refused_naming_the_field(body: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        NewSilence.model_validate(body)
    assert field in str(refused.value)


@pytest.mark.parametrize(("ends_at", "why"), [
    (NOW - timedelta(seconds=1), "not in the future"),
    (NOW + timedelta(seconds=MAX_SILENCE_S + 60), "at most 90 days"),
])
def test_an_end_in_the_past_or_too_far_is_refused(ends_at: datetime, why: str) -> None:
    request = NewSilence.model_validate({"matchers": {"rule": "rafah"}, "ends_at": ends_at.isoformat()})
    with pytest.raises(SilenceRefused, match=f"ends_at: .*{why}"):
        silence_from_request(request, NOW)


def test_every_given_matcher_must_match() -> None:
    both = silence("sil_1", rule="rafah", subscription="sub_a")
    assert both.holds("rafah", "s1", "sub_a", NOW)
    assert not both.holds("rafah", "s1", "sub_b", NOW)
    assert not both.holds("gaza", "s1", "sub_a", NOW)
    story = silence("sil_2", story_id="s1")
    assert story.holds("rafah", "s1", "sub_a", NOW) and story.holds("gaza", "s1", "sub_b", NOW)
    assert not story.holds("rafah", "s2", "sub_a", NOW)


def test_a_silence_holds_only_while_active() -> None:
    ending = silence("sil_1", minutes=10, rule="rafah")
    assert ending.holds("rafah", "s1", "sub_a", NOW + timedelta(minutes=9))
    assert not ending.holds("rafah", "s1", "sub_a", NOW + timedelta(minutes=10))


def test_the_oldest_holding_silence_is_the_one_recorded() -> None:
    silences = [silence("sil_b", rule="rafah"), silence("sil_a", starts_before=5, story_id="s1"),
                silence("sil_c", starts_before=30, rule="gaza")]
    assert first_holding(silences, "rafah", "s1", "sub_a", NOW) == silences[1]
    assert first_holding(silences, "rafah", "s2", "sub_a", NOW) == silences[0]
    assert first_holding(silences, "kyiv", "s2", "sub_a", NOW) is None
