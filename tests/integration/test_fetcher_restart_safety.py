"""Fetcher restarts against the real broker and Redis: nothing lost, nothing sent twice.

Each ``restarted_fetcher_polls`` is a fresh fetcher, as after a crash: new connections, HTTP client
and validator store on the same Redis, polling the local news site with stories the tests change.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, cast

import pytest
from aiokafka.errors import KafkaTimeoutError
from redis.asyncio import Redis

from newsmon.stack import Stack
from services.fetcher.polite_http import polite_client
from services.fetcher.polling import poll
from services.fetcher.published import SourceFreshness
from services.fetcher.sources import Source
from services.fetcher.validator_store import RedisValidatorStore
from shared import topics
from shared.kafka_clients import producer
from shared.redis_client import connect
from shared.schemas import RawArticle
from shared.settings import Settings
from tests.integration.conftest import read_json_topic
from tests.news_site import NewsSite, Story, news_site_in_thread

STORIES = {
    "harbour": Story(
        "harbour", "Harbour renewal plan approved by the city council",
        ("The city council approved a ten-year plan on Monday to renew the old harbour district.",
         "The first phase rebuilds the sea wall and opens a public promenade along the quay.",
         "Residents at the hearing welcomed the promenade and asked for more affordable housing."),
        "2026-11-23T08:00:00+00:00", "Mon, 23 Nov 2026 08:00:00 GMT"),
    "library": Story(
        "library", "Central library reopens after a two-year refit",
        ("The central library reopened on Saturday after a two-year refit that added study rooms.",
         "Librarians counted three times the usual weekend visitors on the first day.",
         "The building now runs on solar power and stays open until ten in the evening."),
        "2026-11-21T09:00:00+00:00", "Sat, 21 Nov 2026 09:00:00 GMT"),
}
MUSEUM = Story(
    "museum", "Maritime museum opens a new wing for old ships",
    ("The maritime museum opened a new wing on Friday that houses three restored fishing boats.",
     "Curators spent four years rebuilding the hulls with timber from the same northern forests.",
     "Entry to the new wing is free for children under twelve until the end of the year."),
    "2026-11-20T10:00:00+00:00", "Fri, 20 Nov 2026 10:00:00 GMT")


@pytest.fixture
def site() -> Iterator[NewsSite]:
    """A site of its own whose stories the tests change, served while the test runs."""
    with news_site_in_thread(STORIES) as site:
        yield site


def restarted_fetcher_polls(
    settings: Settings, site: NewsSite, broker_fails_after: int | None = None
) -> int | None:
    """One poll of the site's feed by a freshly started fetcher; what ``poll`` returns.

    With ``broker_fails_after``, the broker stops acknowledging after that many articles, as
    when it goes away in the middle of a poll.
    """
    fast = settings.model_copy(update={"fetch_per_host_interval_s": 0.0, "fetch_max_retries": 0})

    async def lifetime() -> int | None:
        redis = connect(fast)
        writer = producer(fast)
        await writer.start()
        http = polite_client(fast, RedisValidatorStore(redis, fast.fetcher_memory_ttl_s))
        acknowledged = 0

        async def send(article: RawArticle) -> None:
            nonlocal acknowledged
            if broker_fails_after is not None and acknowledged >= broker_fails_after:
                raise KafkaTimeoutError("no acknowledgement")
            await writer.send_and_wait(topics.ARTICLES_RAW, article.model_dump_json().encode(),
                                       key=article.article_id.encode())
            acknowledged += 1

        try:
            return await poll(Source(name="changing", kind="feed", url=site.rss_url), http, redis, send,
                              fast.fetcher_memory_ttl_s)
        finally:
            await http.client.aclose()
            await writer.stop()
            await redis.aclose()

    return asyncio.run(lifetime())


def published_from(stack: Stack, site: NewsSite) -> list[dict[str, Any]]:
    return [article for article in read_json_topic(stack.settings, topics.ARTICLES_RAW)
            if article.get("source") == site.rss_url]


def test_articles_of_a_failed_publish_are_sent_after_a_restart_and_only_once(stack: Stack, site: NewsSite) -> None:
    assert restarted_fetcher_polls(stack.settings, site, broker_fails_after=1) is None, "the poll failed"
    assert restarted_fetcher_polls(stack.settings, site) == 1, "the article the broker never took"
    assert restarted_fetcher_polls(stack.settings, site) == 0
    assert site.last_answer("/rss.xml") == 304, "once all was published, the feed's validators were kept"
    assert Counter(article["title"] for article in published_from(stack, site)) == Counter(
        {story.title: 1 for story in STORIES.values()})


def test_a_page_that_was_down_is_fetched_after_a_restart(stack: Stack, site: NewsSite) -> None:
    site.down = {"/news/library"}
    assert restarted_fetcher_polls(stack.settings, site) == 1
    site.down = set()
    assert restarted_fetcher_polls(stack.settings, site) == 1, "the feed is read again, not answered 304"
    assert restarted_fetcher_polls(stack.settings, site) == 0
    assert sorted(article["title"] for article in published_from(stack, site)) == sorted(
        story.title for story in STORIES.values())


def test_stories_updated_or_added_while_the_fetcher_was_down_are_published_after_restart(
    stack: Stack, site: NewsSite
) -> None:
    assert restarted_fetcher_polls(stack.settings, site) == 2
    harbour = site.stories["harbour"]
    first, *rest = harbour.paragraphs
    site.stories["harbour"] = replace(harbour, paragraphs=(
        first.replace("Monday", "Monday evening after a five-hour debate"), *rest))
    site.stories["museum"] = MUSEUM

    assert restarted_fetcher_polls(stack.settings, site) == 2
    assert restarted_fetcher_polls(stack.settings, site) == 0

    published = published_from(stack, site)
    versions = [article for article in published if article["title"] == harbour.title]
    assert len({article["article_id"] for article in versions}) == 1, "an update keeps the article id"
    assert ["Monday evening" in article["text"] for article in versions] == [False, True], "the new version follows"
    assert Counter(article["title"] for article in published) == Counter(
        {harbour.title: 2, STORIES["library"].title: 1, MUSEUM.title: 1})


def test_a_sources_newest_article_time_outlives_a_restart_and_quiet_polls_leave_redis_alone(stack: Stack) -> None:
    async def scenario() -> None:
        redis = connect(stack.settings)
        asked: list[str] = []

        class Counted:
            """The real client, with its reads counted."""

            async def get(self, key: str) -> Any:
                asked.append(key)
                return await redis.get(key)

            async def set(self, key: str, value: str) -> Any:
                return await redis.set(key, value)

        counted = cast(Redis, Counted())
        label = f"https://freshness.example/{uuid.uuid4().hex}.xml"
        try:
            before_restart = SourceFreshness(label)
            assert await before_restart.update(counted, None) is None, "never published: no freshness"
            assert await before_restart.update(counted, 1_000.0) == 1_000.0
            assert await before_restart.update(counted, 900.0) == 1_000.0, "an older article does not move it back"
            for _ in range(5):
                assert await before_restart.update(counted, None) == 1_000.0
            assert len(asked) == 1, "a loop reads the stored time once, not on every quiet poll"

            after_restart = SourceFreshness(label)
            assert await after_restart.update(counted, None) == 1_000.0, "a restarted fetcher still shows it"
            assert await after_restart.update(counted, 2_000.0) == 2_000.0
            assert await SourceFreshness(label).update(counted, None) == 2_000.0
        finally:
            await redis.aclose()

    asyncio.run(scenario())
