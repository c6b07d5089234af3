"""Timers and background tasks that outlive their failures.

faust stops the whole app when one of its timers or tasks raises, so a Redis timeout in a rule
refresh would take the alerter down, and the stack with it. Every service therefore runs its
periodic and long-running work through these two helpers, inside an ``@app.task``: a failure is
logged with the job's name (``background.failed``, with the traceback unless it is a dependency
outage), counted in ``newsmon_background_failures_total{service, job}``, and the work is tried
again after a capped backoff, so it resumes by itself once the dependency is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from shared import metrics
from shared.failure_policy import Backoff, classify, describe_error

logger = logging.getLogger(__name__)


async def every(interval_s: float, work: Callable[[], Awaitable[object]], *, service: str, job: str) -> None:
    """Run ``work`` every ``interval_s`` seconds, forever; after a failure, wait the backoff instead.

    The backoff starts at the interval and doubles up to ``Backoff``'s cap (or the interval, if
    longer), so a failing job neither spins nor waits much longer than usual once things recover.
    """
    metrics.BACKGROUND_FAILURES.labels(service, job)
    backoff = Backoff(first_s=interval_s, max_s=max(interval_s, Backoff().max_s))
    while True:
        try:
            await work()
        except Exception as error:
            await asyncio.sleep(_failed(error, backoff, service, job))
            continue
        backoff.reset()
        await asyncio.sleep(interval_s)


async def keep_running(work: Callable[[], Awaitable[object]], *, service: str, job: str) -> None:
    """Run the long-running ``work`` and start it again after a backoff whenever it raises.

    Returns when ``work`` returns (it was asked to stop); cancellation passes through untouched.
    """
    metrics.BACKGROUND_FAILURES.labels(service, job)
    backoff = Backoff()
    while True:
        try:
            await work()
            return
        except Exception as error:
            await asyncio.sleep(_failed(error, backoff, service, job))


def _failed(error: Exception, backoff: Backoff, service: str, job: str) -> float:
    """Log and count one failure of a job; the seconds to wait before trying again."""
    metrics.BACKGROUND_FAILURES.labels(service, job).inc()
    delay = backoff.next_delay()
    outage = classify(error) == "transient"
    logger.log(logging.WARNING if outage else logging.ERROR, "background.failed", exc_info=None if outage else error,
               extra={"fields": {"service": service, "job": job, "error": describe_error(error),
                                 "retry_in_s": round(delay, 2)}})
    return delay
