"""When the next webhook attempt may go, and how many may be in flight: pure rules, no I/O.

``RetrySchedule`` spaces the attempts of one delivery: exponential backoff with jitter, or the
receiver's ``Retry-After``, never below the schedule's own minimum for that attempt, so a receiver
answering ``Retry-After: 0`` cannot make newsmon burn every attempt within a second.

``DestinationSlots`` counts the attempts in flight per destination (scheme, host and port) and in
all: a receiver that hangs fills only its own slots, and deliveries to every other receiver go on.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_DELAY_S = 3600.0

Draw = Callable[[float, float], float]


@dataclass(frozen=True)
class RetrySchedule:
    """Delays between the attempts of one delivery, from ``backoff_s`` doubling up to ``max_delay_s``."""

    backoff_s: float
    max_delay_s: float = MAX_DELAY_S

    def minimum(self, attempts: int) -> float:
        """The shortest wait after the ``attempts``-th failed attempt: half its backoff."""
        return min(self.backoff_s * 2.0 ** min(attempts - 1, 30), self.max_delay_s) / 2

    def delay(self, attempts: int, retry_after_s: float | None = None, draw: Draw = random.uniform) -> float:
        """Seconds until the next try after the ``attempts``-th failed attempt.

        Without a hint, half the backoff is fixed and half random ("equal jitter"), so retries of
        many items spread out while the schedule still reaches the horizon in a predictable number
        of attempts. With the receiver's ``Retry-After``, that hint, but never below ``minimum``
        and never above ``max_delay_s``.
        """
        floor = self.minimum(attempts)
        if retry_after_s is not None:
            return min(max(retry_after_s, floor), self.max_delay_s)
        return floor + draw(0, floor)


@dataclass
class DestinationSlots:
    """Attempts in flight per destination (at most ``per_destination``) and in all (at most ``total``)."""

    per_destination: int
    total: int
    in_flight: Counter[str] = field(default_factory=Counter)

    def room(self) -> int:
        """How many more attempts may start now, whatever their destination."""
        return max(0, self.total - sum(self.in_flight.values()))

    def free(self) -> dict[str, int]:
        """Free slots of each destination with attempts in flight; an unlisted one has ``per_destination``."""
        return {destination: max(0, self.per_destination - count) for destination, count in self.in_flight.items()}

    def take(self, destination: str) -> None:
        self.in_flight[destination] += 1

    def release(self, destination: str) -> None:
        self.in_flight[destination] -= 1
        if self.in_flight[destination] <= 0:
            del self.in_flight[destination]
