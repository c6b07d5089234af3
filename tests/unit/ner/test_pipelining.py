"""Batches are annotated side by side, up to the depth, and published strictly in the order they came."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import pytest

from services.ner.pipelining import OrderedPipeline


class Batch:
    """A job whose annotation ends when the test says so; it records when it started and published."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.annotated = asyncio.Event()
        self.fail = False

    async def __call__(self, turn: Awaitable[None]) -> None:
        self.log.append(f"start {self.name}")
        await self.annotated.wait()
        if self.fail:
            raise RuntimeError(f"{self.name} broke")
        await turn
        self.log.append(f"publish {self.name}")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_later_batches_start_before_earlier_ones_finish_but_publish_after_them() -> None:
    log: list[str] = []
    first, second = Batch("1", log), Batch("2", log)
    pipeline = OrderedPipeline(depth=2)
    await pipeline.submit(first)
    await pipeline.submit(second)
    await settle()
    assert log == ["start 1", "start 2"], "the second batch is annotated while the first still is"
    second.annotated.set()
    await settle()
    assert "publish 2" not in log, "it waits for its turn"
    first.annotated.set()
    await pipeline.drain()
    assert log == ["start 1", "start 2", "publish 1", "publish 2"]


async def test_no_more_batches_than_the_depth_are_taken_at_once() -> None:
    log: list[str] = []
    first, second = Batch("1", log), Batch("2", log)
    pipeline = OrderedPipeline(depth=1)
    await pipeline.submit(first)
    taking_second = asyncio.ensure_future(pipeline.submit(second))
    await settle()
    assert not taking_second.done() and log == ["start 1"]
    first.annotated.set()
    second.annotated.set()
    await taking_second
    await pipeline.drain()
    assert log == ["start 1", "publish 1", "start 2", "publish 2"]


async def test_nothing_after_a_failed_batch_is_published_and_the_next_submit_fails() -> None:
    log: list[str] = []
    first, second = Batch("1", log), Batch("2", log)
    first.fail = True
    pipeline = OrderedPipeline(depth=2)
    await pipeline.submit(first)
    await pipeline.submit(second)
    first.annotated.set()
    second.annotated.set()
    with pytest.raises(RuntimeError, match="1 broke"):
        await pipeline.drain()
    with pytest.raises(RuntimeError, match="1 broke"):
        await pipeline.submit(Batch("3", log))
    assert log == ["start 1", "start 2"]
