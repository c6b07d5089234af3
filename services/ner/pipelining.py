"""Batches annotated side by side and published in order, so worker processes never wait on each other.

With ``NEWSMON_NER_N_PROCESS`` workers, a batch shared out among them is done when its slowest
worker is, and then it is published while the workers idle. ``OrderedPipeline`` starts the next
batch as soon as one is taken, up to ``depth`` batches at once, and hands each job a ``turn``
that completes when the job before it has finished: the job annotates at once and awaits its
turn only to publish and acknowledge. Outputs and offsets therefore go out in input order (a
newer version of an article never overtakes an older one), and a failed job fails every later
one and the caller's next ``submit``, so nothing is acknowledged past a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Job = Callable[[Awaitable[None]], Awaitable[None]]


class OrderedPipeline:
    """Runs up to ``depth`` jobs at once; each job's ``turn`` waits for the job submitted before it."""

    def __init__(self, depth: int) -> None:
        self._slots = asyncio.Semaphore(depth)
        self._last: asyncio.Future[None] | None = None
        self._running: set[asyncio.Future[None]] = set()

    async def submit(self, job: Job) -> None:
        """Start ``job(turn)`` once fewer than ``depth`` jobs run; raises the error of a failed earlier job.

        ``job`` must await ``turn`` before anything that has to follow the previous job.
        """
        await self._slots.acquire()
        if self._last is not None and self._last.done() and not self._last.cancelled() and (
                error := self._last.exception()) is not None:
            self._slots.release()
            raise error
        turn = self._last
        if turn is None:
            turn = asyncio.get_running_loop().create_future()
            turn.set_result(None)
        task = asyncio.ensure_future(job(turn))
        self._running.add(task)
        task.add_done_callback(self._finished)
        self._last = task

    async def drain(self) -> None:
        """Wait for every job submitted so far; raises the error of a failed one."""
        if self._last is not None:
            await self._last

    def cancel(self) -> None:
        """Stop every running job (their inputs stay unacknowledged and are delivered again)."""
        for task in self._running:
            task.cancel()

    def _finished(self, task: asyncio.Future[None]) -> None:
        self._running.discard(task)
        self._slots.release()
        if not task.cancelled():
            task.exception()  # marks it retrieved; the next job's turn or the next submit raises it
