"""Timers and background tasks log and count a failure, wait a backoff, and go on: none takes its app down."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import REGISTRY
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.background import every, keep_running
from tests.waiting import wait_until_async


def failures(job: str) -> float:
    return REGISTRY.get_sample_value("newsmon_background_failures_total", {"service": "tests", "job": job}) or 0.0


async def test_a_periodic_job_that_fails_is_logged_counted_and_run_again(caplog: pytest.LogCaptureFixture) -> None:
    outcomes: list[Exception | None] = [RedisTimeoutError("Timeout reading from socket"), KeyError("rule"), None]
    runs = 0

    async def refresh() -> None:
        nonlocal runs
        runs += 1
        outcome = outcomes.pop(0) if outcomes else None
        if outcome is not None:
            raise outcome

    async def ran_five_times() -> bool:
        return runs >= 5

    with caplog.at_level(logging.WARNING, logger="shared.background"):
        job = asyncio.create_task(every(0.01, refresh, service="tests", job="refresh"))
        try:
            await wait_until_async(ran_five_times, 10, "five runs of the job")
            assert not job.done(), "the job keeps running after its failures"
        finally:
            job.cancel()
    assert failures("refresh") == 2
    logged = [record for record in caplog.records if record.getMessage() == "background.failed"]
    assert [record.levelno for record in logged] == [logging.WARNING, logging.ERROR], "an outage is no bug"
    assert logged[1].exc_info is not None, "a bug is logged with its traceback"


async def test_a_long_running_task_is_started_again_after_it_raises() -> None:
    starts = 0

    async def deliver() -> None:
        nonlocal starts
        starts += 1
        if starts < 3:
            raise ConnectionRefusedError("Redis is away")

    await asyncio.wait_for(keep_running(deliver, service="tests", job="deliver"), 10)
    assert starts == 3 and failures("deliver") == 2
