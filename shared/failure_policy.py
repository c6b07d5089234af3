"""What a stage does when handling a message fails: the one error policy every service shares.

Three kinds of failure, told apart here and nowhere else:

- **transient**: the input is fine but a dependency is not (Redis or the broker unreachable, slow
  or refusing writes for a while). The message is retried with capped backoff and its offset does
  not move, so an outage is a wait, never a loss.
- **rejected**: the message itself cannot be handled (``Rejected``, raised by a stage's own logic
  with a bounded ``kind``); it goes to the dead-letter topic with the reason.
- **bug**: any other exception. It would fail again on every retry, so it is dead-lettered as
  ``processing_error`` with the exception, and the stream moves on.
"""

from __future__ import annotations

from typing import Literal

from aiokafka.errors import KafkaError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

FailureKind = Literal["transient", "rejected", "bug"]

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,
    RedisTimeoutError,
    KafkaError,
    ConnectionError,
)


class Rejected(Exception):
    """A message a stage cannot handle, whatever is retried; ``kind`` is the dead letter's bounded label."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def classify(error: BaseException) -> FailureKind:
    """Which kind of failure ``error`` is (see the module docstring)."""
    if isinstance(error, Rejected):
        return "rejected"
    if isinstance(error, TRANSIENT_ERRORS):
        return "transient"
    return "bug"
