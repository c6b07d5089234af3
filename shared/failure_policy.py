"""What a stage does when handling a message fails: the one error policy every service shares.

Three kinds of failure, told apart here and nowhere else:

- **transient**: the input is fine but a dependency is not (Redis or the broker unreachable, slow,
  loading, out of memory, read-only after a failover, refusing writes after a failed save). The
  work is retried with capped backoff (``retry_transient``) and its offset does not move, so an
  outage is a wait, never a loss.
- **rejected**: the message itself cannot be handled (``Rejected``, raised by a stage's own logic
  with a bounded ``kind``, or an output too large for the broker); it goes to the dead-letter
  topic with the reason.
- **bug**: any other exception. It would fail again on every retry, so it is dead-lettered as
  ``processing_error`` with the exception, and the stream moves on.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from aiokafka.errors import KafkaError, MessageSizeTooLargeError, RecordTooLargeError
from faust.exceptions import ProducerSendError
from redis.exceptions import (
    ClusterDownError,
    OutOfMemoryError,
    ReadOnlyError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError as RedisResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.logs import log_event

FailureKind = Literal["transient", "rejected", "bug"]
T = TypeVar("T")

logger = logging.getLogger(__name__)

# Redis answers these error codes when the server, not the command, is the problem: out of memory,
# a replica after a failover, a failed background save, still loading its data, a script hogging
# it, a cluster or replica set without a master. Each clears without any change to the input.
REDIS_OUTAGE_CODES = frozenset({"OOM", "READONLY", "MISCONF", "LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN",
                                "CLUSTERDOWN", "NOREPLICAS"})

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    RedisConnectionError,  # BusyLoadingError (LOADING) and authentication failures included
    RedisTimeoutError,
    OutOfMemoryError,
    ReadOnlyError,
    TryAgainError,
    ClusterDownError,  # MasterDownError included
    KafkaError,
    ConnectionError,
    TimeoutError,
)
# The broker will never take these, however often they are sent: the message is the problem.
TOO_LARGE_ERRORS: tuple[type[BaseException], ...] = (MessageSizeTooLargeError, RecordTooLargeError)
TOO_LARGE = "too_large"

RETRY_FIRST_S = 0.2
# Short enough that work resumes within seconds of a dependency's return, long enough that a
# retrying service adds no real load to a struggling Redis or broker.
RETRY_MAX_S = 5.0


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
    cause = _unwrapped(error)
    if isinstance(cause, TOO_LARGE_ERRORS):
        return "rejected"
    if isinstance(cause, TRANSIENT_ERRORS) or _is_redis_outage(cause):
        return "transient"
    return "bug"


def as_rejected(error: BaseException) -> Rejected | None:
    """``error`` as the ``Rejected`` a stage dead-letters, or None when it is not a rejection."""
    if isinstance(error, Rejected):
        return error
    cause = _unwrapped(error)
    if isinstance(cause, TOO_LARGE_ERRORS):
        return Rejected(TOO_LARGE, f"the broker refuses a message this large: {cause}")
    return None


def _unwrapped(error: BaseException) -> BaseException:
    """faust wraps the producer's Kafka errors in ``ProducerSendError``; the policy judges the cause."""
    if isinstance(error, ProducerSendError) and error.__cause__ is not None:
        return error.__cause__
    return error


def _is_redis_outage(error: BaseException) -> bool:
    """An error reply with an outage code that redis-py has no class for (MISCONF, BUSY, NOREPLICAS...)."""
    return isinstance(error, RedisResponseError) and str(error).split(" ", 1)[0] in REDIS_OUTAGE_CODES


@dataclass
class Backoff:
    """Capped exponential delays with jitter: the n-th wait is at most ``first_s * 2**n`` and ``max_s``.

    Each delay is drawn between half and all of its cap ("equal jitter"), so services retrying
    against one recovering dependency spread out instead of arriving together.
    """

    first_s: float = RETRY_FIRST_S
    max_s: float = RETRY_MAX_S
    failures: int = field(default=0, init=False)

    def next_delay(self) -> float:
        cap = min(self.first_s * 2.0 ** min(self.failures, 30), self.max_s)
        self.failures += 1
        return cap / 2 + random.uniform(0, cap / 2)

    def reset(self) -> None:
        self.failures = 0


async def retry_transient(operation: Callable[[], Awaitable[T]], what: str, *,
                          on_retry: Callable[[BaseException], None] | None = None,
                          backoff: Backoff | None = None, **ids: object) -> T:
    """``await operation()`` until it succeeds; transient failures are logged and retried with ``Backoff``.

    Anything else (a rejection, a bug) is raised at once. ``what`` names the operation in the
    ``dependency.retrying`` log line, which also carries ``ids`` (article_id, alert_id, ...);
    ``on_retry`` sees each transient failure first (to count it).
    """
    delays = backoff or Backoff()
    while True:
        try:
            return await operation()
        except Exception as error:
            if classify(error) != "transient":
                raise
            if on_retry is not None:
                on_retry(error)
            delay = delays.next_delay()
            log_event(logger, "dependency.retrying", logging.WARNING, operation=what, error=describe_error(error),
                      delay_s=round(delay, 2), **ids)
            await asyncio.sleep(delay)


def describe_error(error: BaseException) -> str:
    """``Type: message`` (just the type when the message is empty), short enough for one log field."""
    cause = _unwrapped(error)
    text = str(cause)
    return f"{type(cause).__name__}: {text}"[:300] if text else type(cause).__name__
