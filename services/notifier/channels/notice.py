"""What a channel renders: one alert (fired, updated, or a test) or one digest of them.

The dispatcher builds these from what it consumes and the channels (``slack``, ``teams``, ``discord``,
``email_message``) turn them into the payload of their service; a channel reads nothing else, so
each one is a pure function of a notice and can be tested without the notifier running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.schemas import Alert

NoticeType = Literal["alert.fired", "alert.updated", "test"]


@dataclass(frozen=True)
class AlertNotice:
    """One alert, or one update of it, as a channel renders it."""

    type: NoticeType
    alert: Alert
    outlets: int = 1
    """Outlets carrying the story so far."""
    update_sequence: int = 0
    """0 for ``alert.fired``, then 1, 2, ... for each ``alert.updated`` of the same alert."""
    update_reason: str | None = None
    """Why the update was sent, for a reader: "now 10 outlets", "new organization: European Union"."""
    silence_id: str | None = None
    """Set when a digest lists an alert that a silence held back from immediate delivery."""
    first_seen: datetime | None = None
    """When the story first alerted (the alert's ``fired_at`` when unset)."""


@dataclass(frozen=True)
class DigestNotice:
    """One digest: the stories alerted on in a period, newest first (never empty)."""

    subscription_id: str
    period_start: datetime
    period_end: datetime
    items: tuple[AlertNotice, ...]


Notice = AlertNotice | DigestNotice
