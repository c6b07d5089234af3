"""Micro-batches close when the input goes quiet, fill up while it is busy, and lose nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from services.ner.batching import idle_batches

HOUR = 3600.0
DONE = None


async def from_queue(queue: asyncio.Queue[int | None]) -> AsyncIterator[int]:
    """Items as a consumer delivers them: whenever they are put, until ``DONE``."""
    while (item := await queue.get()) is not DONE:
        yield item


async def test_a_lone_article_is_batched_without_waiting_for_the_batch_window() -> None:
    queue: asyncio.Queue[int | None] = asyncio.Queue()
    batches = idle_batches(from_queue(queue), max_size=16, idle_s=0.005, max_wait_s=HOUR)
    queue.put_nowait(1)
    # The window is an hour and nothing else arrives: the batch still goes, alone.
    assert await anext(batches) == [1]
    queue.put_nowait(2)
    assert await anext(batches) == [2], "the item asked for while the input was quiet starts the next batch"
    queue.put_nowait(DONE)
    assert [batch async for batch in batches] == []


async def test_articles_that_arrive_together_share_batches_of_at_most_max_size() -> None:
    queue: asyncio.Queue[int | None] = asyncio.Queue()
    for item in range(10):
        queue.put_nowait(item)
    batches = idle_batches(from_queue(queue), max_size=4, idle_s=1.0, max_wait_s=HOUR)
    assert [await anext(batches) for _ in range(3)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    queue.put_nowait(DONE)
    assert [batch async for batch in batches] == []


async def test_a_steady_stream_is_cut_at_the_longest_wait() -> None:
    async def endless() -> AsyncIterator[int]:
        number = 0
        while True:
            await asyncio.sleep(0)  # always another item well within the idle gap
            number += 1
            yield number

    batches = idle_batches(endless(), max_size=10**9, idle_s=HOUR, max_wait_s=0.05)
    first, second = await anext(batches), await anext(batches)
    await batches.aclose()
    assert first and second and second[0] == first[-1] + 1, "consecutive batches, in order, nothing skipped"


async def test_the_last_batch_goes_out_when_the_input_ends() -> None:
    queue: asyncio.Queue[int | None] = asyncio.Queue()
    for item in (*range(5), DONE):
        queue.put_nowait(item)
    batches = idle_batches(from_queue(queue), max_size=3, idle_s=HOUR, max_wait_s=HOUR)
    assert [batch async for batch in batches] == [[0, 1, 2], [3, 4]]
