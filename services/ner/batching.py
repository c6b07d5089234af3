"""Micro-batches that close as soon as the input goes quiet, instead of after a fixed window.

spaCy annotates a batch little faster per article than one article alone, so waiting to fill a
batch only pays while articles keep coming. ``idle_batches`` starts a batch with the first item,
adds whatever arrives without a pause of more than ``idle_s``, and closes it at ``max_size``
items, at the first such pause, or ``max_wait_s`` after it started. An article arriving on a
quiet input is therefore annotated at once; under load, items that queued while the previous
batch was being annotated arrive back to back and fill the next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeVar

T = TypeVar("T")


async def idle_batches(items: AsyncIterator[T], max_size: int, idle_s: float,
                       max_wait_s: float) -> AsyncIterator[list[T]]:
    """Batches of ``items`` in order, none empty, none over ``max_size``; ends when ``items`` ends.

    An item asked for but not yet arrived when a batch closes is not lost: the same request
    starts the next batch, so ``items`` is never cancelled mid-item.
    """
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[T] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(items))
            try:
                batch = [await pending]
            except StopAsyncIteration:
                return
            pending = None
            closes_at = loop.time() + max_wait_s
            while len(batch) < max_size and (left_s := closes_at - loop.time()) > 0:
                pending = asyncio.ensure_future(anext(items))
                done, _ = await asyncio.wait({pending}, timeout=min(idle_s, left_s))
                if not done:
                    break
                try:
                    batch.append(pending.result())
                except StopAsyncIteration:
                    yield batch
                    return
                pending = None
            yield batch
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending
