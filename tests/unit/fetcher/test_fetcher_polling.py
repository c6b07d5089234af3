"""What one poll promises without a broker: a failing source is contained, freshness is never in the future."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import REGISTRY

from services.fetcher.polling import isolated, newest_publication
from services.fetcher.sources import Source
from shared.schemas import RawArticle

FETCHED = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
SOURCE = Source(name="wire", kind="feed", url="https://wire.example/rss")


def article(published_at: datetime | None) -> RawArticle:
    return RawArticle(article_id="a", text="t", source=SOURCE.url or "", published_at=published_at, fetched_at=FETCHED)


def test_freshness_is_the_newest_publication_but_never_after_the_fetch() -> None:
    yesterday = FETCHED - timedelta(days=1)
    assert newest_publication([article(yesterday)]) == yesterday.timestamp()
    assert newest_publication([article(yesterday), article(FETCHED + timedelta(days=30))]) == FETCHED.timestamp()
    assert newest_publication([article(None)]) == FETCHED.timestamp(), "undated: as of the poll that publishes it"
    assert newest_publication([]) is None, "nothing published: freshness stays what it was"


async def test_any_failure_of_a_source_is_logged_counted_and_contained(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> int:
        raise RuntimeError("boom")

    def count(name: str, labels: dict[str, str]) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    caplog.set_level(logging.WARNING)
    errors = count("newsmon_source_consecutive_errors", {"source": SOURCE.url or ""})
    failed = count("newsmon_fetch_skipped_total", {"reason": "poll_failed"})

    assert await isolated(SOURCE, broken()) is None

    (record,) = [record for record in caplog.records if record.getMessage() == "fetch.source_failed"]
    assert record.fields == {"source": SOURCE.url, "kind": "poll_failed", "reason": "RuntimeError: boom"}  # type: ignore[attr-defined]
    assert record.exc_info is not None, "an unexpected failure keeps its traceback in the log"
    assert count("newsmon_source_consecutive_errors", {"source": SOURCE.url or ""}) == errors + 1
    assert count("newsmon_fetch_skipped_total", {"reason": "poll_failed"}) == failed + 1
