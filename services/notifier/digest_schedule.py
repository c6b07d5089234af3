"""When a digest subscription's periods end: every N seconds, or daily at a local time in a time zone.

``{"every_s": 3600}`` periods end on multiples of N seconds since the epoch, and
``{"at": "08:00", "timezone": "Europe/Paris"}`` periods end at 08:00 Paris time each day, whatever
the daylight-saving offset. Boundaries depend only on the schedule and the clock, never on when a
notifier started, so every instance names the same period the same way (its end), which is what
lets two instances agree on sending one digest per period. Pure functions, no I/O.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

MIN_PERIOD_S = 60
MAX_PERIOD_S = 7 * 24 * 3600
_CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class DigestRefused(ValueError):
    """A ``digest`` value that is not a schedule newsmon can keep; the message names the field."""


class EveryPeriod(BaseModel):
    """Periods of ``every_s`` seconds."""

    model_config = ConfigDict(extra="forbid")

    every_s: int = Field(ge=1, le=MAX_PERIOD_S, description="Seconds per period; 60 s to 7 days.")

    def last_boundary(self, now: datetime) -> datetime:
        """The latest period end at or before ``now``."""
        return _from_epoch(math.floor(now.timestamp() / self.every_s) * self.every_s)

    def previous_boundary(self, boundary: datetime) -> datetime:
        return boundary - timedelta(seconds=self.every_s)

    def describe(self) -> str:
        return f"every {self.every_s} s"


class DailyPeriod(BaseModel):
    """One period a day, ending at ``at`` (HH:MM) local time in ``timezone`` (an IANA name)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    at: str = Field(validation_alias=AliasChoices("at", "daily_at"), description="HH:MM, 24-hour clock.")
    timezone: str = Field(default="UTC", description="IANA time zone, e.g. Europe/Paris.")

    @field_validator("at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not _CLOCK_TIME.match(value):
            raise ValueError(f"{value!r} is not a time of day written HH:MM (e.g. 08:00)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known IANA time zone (e.g. Europe/Paris)") from None
        return value

    def _boundary_on(self, day: date) -> datetime:
        """That day's period end, in UTC (a local time skipped by a DST change falls an hour later)."""
        local = datetime.combine(day, time.fromisoformat(self.at), tzinfo=ZoneInfo(self.timezone))
        return local.astimezone(timezone.utc)

    def last_boundary(self, now: datetime) -> datetime:
        """The latest period end at or before ``now``."""
        today = now.astimezone(ZoneInfo(self.timezone)).date()
        boundary = self._boundary_on(today)
        return boundary if boundary <= now else self._boundary_on(today - timedelta(days=1))

    def previous_boundary(self, boundary: datetime) -> datetime:
        day = boundary.astimezone(ZoneInfo(self.timezone)).date()
        return self._boundary_on(day - timedelta(days=1))

    def describe(self) -> str:
        return f"daily at {self.at} {self.timezone}"


DigestSchedule = EveryPeriod | DailyPeriod


def _from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, timezone.utc)


def parse_digest(value: Any, min_period_s: int = MIN_PERIOD_S) -> DigestSchedule:
    """A subscription's ``digest`` value as a schedule; ``DigestRefused`` naming the field otherwise.

    ``min_period_s`` is ``NEWSMON_DIGEST_MIN_PERIOD_S`` (60 s unless lowered, e.g. for tests).
    """
    if not isinstance(value, dict):
        raise DigestRefused('digest: give {"every_s": N} or {"at": "HH:MM", "timezone": "Area/City"}')
    model: type[EveryPeriod] | type[DailyPeriod] = EveryPeriod if "every_s" in value else DailyPeriod
    try:
        schedule = model.model_validate(value)
    except ValidationError as error:
        raise DigestRefused("; ".join(
            f"digest.{'.'.join(str(part) for part in item['loc']) or 'value'}: {item['msg']}"
            for item in error.errors())) from None
    if isinstance(schedule, EveryPeriod) and schedule.every_s < min_period_s:
        raise DigestRefused(f"digest.every_s: at least {min_period_s} s (at most {MAX_PERIOD_S} s)")
    return schedule
