"""Digest periods: where they end, on every instance alike, through daylight-saving changes; bad values refused."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from services.notifier.digest_schedule import DailyPeriod, DigestRefused, EveryPeriod, parse_digest

PARIS = ZoneInfo("Europe/Paris")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)


def test_every_periods_end_on_multiples_of_the_period() -> None:
    hourly = parse_digest({"every_s": 3600})
    assert isinstance(hourly, EveryPeriod)
    assert hourly.last_boundary(utc(2026, 12, 7, 10, 59, 59)) == utc(2026, 12, 7, 10)
    assert hourly.last_boundary(utc(2026, 12, 7, 11)) == utc(2026, 12, 7, 11)
    assert hourly.previous_boundary(utc(2026, 12, 7, 11)) == utc(2026, 12, 7, 10)


def test_daily_periods_end_at_the_local_time_in_winter_and_in_summer() -> None:
    morning = parse_digest({"at": "08:00", "timezone": "Europe/Paris"})
    assert morning.last_boundary(utc(2026, 12, 7, 6, 59)) == utc(2026, 12, 6, 7)  # 08:00 CET = 07:00 UTC
    assert morning.last_boundary(utc(2026, 12, 7, 7)) == utc(2026, 12, 7, 7)
    assert morning.last_boundary(utc(2026, 7, 1, 12)) == utc(2026, 7, 1, 6)  # 08:00 CEST = 06:00 UTC


def test_a_daily_period_across_the_spring_change_is_23_hours() -> None:
    morning = parse_digest({"at": "08:00", "timezone": "Europe/Paris"})
    end = morning.last_boundary(utc(2026, 3, 29, 12))
    assert end.astimezone(PARIS).hour == 8 and end == utc(2026, 3, 29, 6)
    assert (end - morning.previous_boundary(end)).total_seconds() == 23 * 3600


def test_daily_at_is_also_accepted_as_daily_at_and_defaults_to_utc() -> None:
    schedule = parse_digest({"daily_at": "18:30"})
    assert isinstance(schedule, DailyPeriod) and (schedule.at, schedule.timezone) == ("18:30", "UTC")
    assert schedule.last_boundary(utc(2026, 12, 7, 18, 29)) == utc(2026, 12, 6, 18, 30)


def test_the_minimum_period_is_a_setting() -> None:
    with pytest.raises(DigestRefused, match="digest.every_s: at least 60 s"):
        parse_digest({"every_s": 5})
    assert parse_digest({"every_s": 5}, min_period_s=2) == EveryPeriod(every_s=5)


@pytest.mark.parametrize(("value", "message"), [
    ({"every_s": 8 * 24 * 3600}, "digest.every_s"),
    ({"every_s": "soon"}, "digest.every_s"),
    ({"at": "8:00", "timezone": "Europe/Paris"}, "digest.at: Value error, '8:00' is not a time of day"),
    ({"at": "25:00"}, "digest.at"),
    ({"at": "08:00", "timezone": "Europe/Atlantis"}, "digest.timezone: Value error, 'Europe/Atlantis'"),
    ({"at": "08:00", "every": 3}, "digest.every"),
    ({}, "digest.at: Field required"),
    ("hourly", "digest: give"),
])
def test_bad_digest_values_are_refused_naming_the_field(value: object, message: str) -> None:
    with pytest.raises(DigestRefused) as refused:
        parse_digest(value)
    assert message in str(refused.value)
