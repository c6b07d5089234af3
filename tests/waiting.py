"""The one way tests wait: poll a condition until it holds, and fail naming what was awaited at the deadline.

Never sleep a fixed time "for Kafka": the stack's timing varies with the machine's load, so a wait
returns as soon as its condition holds and only its deadline is generous. ``wait_until`` polls a
plain function (threads, subprocesses, the running stack); ``wait_until_async`` awaits an async one
inside a test's event loop. Both share the deadline and the failure message.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

T = TypeVar("T")
Description = str | Callable[[], str]


class _Deadline:
    def __init__(self, timeout: float, what: Description) -> None:
        self.timeout = timeout
        self.what = what
        self.at = time.monotonic() + timeout

    def check(self) -> None:
        """Fail the test once the deadline has passed; ``what`` may be a callable that says what is missing."""
        if time.monotonic() > self.at:
            what = self.what() if callable(self.what) else self.what
            pytest.fail(f"timed out after {self.timeout:.0f}s waiting for {what}")


def wait_until(condition: Callable[[], T], timeout: float, what: Description, interval: float = 0.25) -> T:
    """Poll ``condition`` until it returns something truthy, and return that."""
    deadline = _Deadline(timeout, what)
    while True:
        result = condition()
        if result:
            return result
        deadline.check()
        time.sleep(interval)


async def wait_until_async(condition: Callable[[], Awaitable[T]], timeout: float, what: Description,
                           interval: float = 0.05) -> T:
    """Await ``condition`` until it returns something truthy, and return that (the event loop keeps running)."""
    deadline = _Deadline(timeout, what)
    while True:
        result = await condition()
        if result:
            return result
        deadline.check()
        await asyncio.sleep(interval)
