"""A Redis or broker outage during a poll is a wait, not the source's failure."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.fetcher.polling import isolated
from services.fetcher.sources import Source

SOURCE = Source(name="wire", kind="feed", url="https://wire.example/outages.xml")


def count(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_an_outage_is_logged_as_a_wait_and_not_counted_against_the_source(
    caplog: pytest.LogCaptureFixture
) -> None:
    async def redis_paused() -> int:
        raise RedisTimeoutError("Timeout reading from socket")

    caplog.set_level(logging.WARNING)
    transient = count("newsmon_transient_errors_total", {"service": "fetcher"})

    assert await isolated(SOURCE, redis_paused()) is None

    [record] = [record for record in caplog.records if record.getMessage().startswith("fetch.source_")]
    assert record.getMessage() == "fetch.source_waiting"
    assert record.fields == {"source": SOURCE.url, "reason": "TimeoutError: Timeout reading from socket"}
    assert count("newsmon_source_consecutive_errors", {"source": SOURCE.url or ""}) == 0
    assert count("newsmon_transient_errors_total", {"service": "fetcher"}) == transient + 1
