"""How one webhook attempt ended, read from the receiver's answer: pure functions, no I/O.

2xx is delivered; 410 Gone stops delivery to the target; 429 and 5xx are retried (a 429/503
``Retry-After``, in seconds or as an HTTP date, is kept as a hint for ``scheduling.RetrySchedule``);
any other status fails at once.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime

import httpx

from services.notifier.webhooks.queue import Outcome


@dataclass(frozen=True)
class AttemptResult:
    """How one attempt ended."""

    outcome: Outcome
    status: int | None = None
    error: str | None = None
    retry_after_s: float | None = None
    latency_s: float | None = None


def describe_attempt_error(error: BaseException) -> str:
    """A short error text; httpx's messages do not include the URL."""
    return f"{type(error).__name__}: {error}"[:200] if str(error) else type(error).__name__


def retry_after_s(response: httpx.Response, now: float | None = None) -> float | None:
    """Retry-After in seconds, given as seconds or as an HTTP date (``now``: epoch seconds, default the clock)."""
    value = response.headers.get("retry-after", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def classify_response(response: httpx.Response) -> AttemptResult:
    """Map a receiver's status to what to do next."""
    status = response.status_code
    if 200 <= status < 300:
        return AttemptResult("delivered", status)
    if status == 410:
        return AttemptResult("gone", status, "410 gone")
    if status == 429 or status >= 500:
        hint = retry_after_s(response) if status in (429, 503) else None
        return AttemptResult("retry", status, f"HTTP {status}", hint)
    return AttemptResult("failed", status, f"HTTP {status}")
