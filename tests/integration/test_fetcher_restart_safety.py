"""Fetcher restarts against the real broker and Redis: nothing lost, nothing sent twice.

Each ``restarted_fetcher_polls`` is a fresh fetcher, as after a crash: new connections, HTTP client
and validator store on the same Redis, polling a local site whose stories the tests change.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import Counter
from collections.abc import Iterator
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError

from newsmon.services.fetcher.polite_http import polite_client
from newsmon.services.fetcher.polling import poll
from newsmon.services.fetcher.sources import Source
from newsmon.services.fetcher.validator_store import RedisValidatorStore
from newsmon.shared import topics
from newsmon.shared.kafka_clients import producer
from newsmon.shared.redis_client import connect
from newsmon.shared.schemas import RawArticle
from newsmon.shared.settings import Settings
from newsmon.stack import Stack
from tests.integration.conftest import read_json_topic

STORIES = {
    "harbour": ("Harbour renewal plan approved by the city council",
                "The city council approved a ten-year plan on Monday to renew the old harbour district. "
                "The first phase rebuilds the sea wall and opens a public promenade along the quay. "
                "Residents at the hearing welcomed the promenade and asked for more affordable housing."),
    "library": ("Central library reopens after a two-year refit",
                "The central library reopened on Saturday after a two-year refit that added study rooms. "
                "Librarians counted three times the usual weekend visitors on the first day. "
                "The building now runs on solar power and stays open until ten in the evening."),
}
MUSEUM = ("Maritime museum opens a new wing for old ships",
          "The maritime museum opened a new wing on Friday that houses three restored fishing boats. "
          "Curators spent four years rebuilding the hulls with timber from the same northern forests. "
          "Entry to the new wing is free for children under twelve until the end of the year.")


class ChangingSite:
    """A feed of teasers linking to story pages, with ETags; stories can change, paths can be down."""

    def __init__(self) -> None:
        self.stories = dict(STORIES)
        self.down: set[str] = set()
        self.answers: list[tuple[str, int]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?", 1)[0]
                body = site.body(path)
                etag = f'"{hashlib.sha256(body or b"").hexdigest()[:16]}"'
                status = (503 if path in site.down else 404 if body is None
                          else 304 if self.headers.get("If-None-Match") == etag else 200)
                site.answers.append((path, status))
                self.send_response(status)
                if status == 200 and body is not None:
                    self.send_header("etag", etag)
                    self.send_header("content-type", "application/rss+xml" if path == "/feed.xml" else "text/html")
                    self.send_header("content-length", str(len(body)))
                self.end_headers()
                if status == 200 and body is not None:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def feed_url(self) -> str:
        return f"{self.base}/feed.xml"

    def body(self, path: str) -> bytes | None:
        if path == "/feed.xml":
            published = datetime(2026, 11, 23, 6, tzinfo=timezone.utc)
            items = "".join(
                f"<item><title>{title}</title><link>{self.base}/stories/{slug}.html?utm_source=rss</link>"
                f"<pubDate>{format_datetime(published + timedelta(hours=hour))}</pubDate></item>"
                for hour, (slug, (title, _)) in enumerate(self.stories.items()))
            return f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>{items}</channel></rss>".encode()
        slug = path.removeprefix("/stories/").removesuffix(".html")
        if slug not in self.stories:
            return None
        title, text = self.stories[slug]
        paragraphs = "".join(f"<p>{sentence}</p>" for sentence in text.split(". "))
        return (f"<html><head><title>{title}</title></head><body><nav>Home World Sport</nav>"
                f"<article><h1>{title}</h1>{paragraphs}</article><footer>All rights reserved.</footer>"
                "</body></html>").encode()

    def last_answer(self, path: str) -> int:
        return [status for answered, status in self.answers if answered == path][-1]


@pytest.fixture
def site() -> Iterator[ChangingSite]:
    site = ChangingSite()
    yield site
    site.server.shutdown()


def restarted_fetcher_polls(
    settings: Settings, site: ChangingSite, broker_fails_after: int | None = None
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
        http = polite_client(fast, RedisValidatorStore(redis, fast.dedupe_ttl_seconds))
        acknowledged = 0

        async def send(article: RawArticle) -> None:
            nonlocal acknowledged
            if broker_fails_after is not None and acknowledged >= broker_fails_after:
                raise KafkaTimeoutError("no acknowledgement")
            await writer.send_and_wait(topics.ARTICLES_RAW, article.model_dump_json().encode(),
                                       key=article.article_id.encode())
            acknowledged += 1

        try:
            return await poll(Source(name="changing", kind="feed", url=site.feed_url), http, redis, send,
                              fast.dedupe_ttl_seconds)
        finally:
            await http.client.aclose()
            await writer.stop()
            await redis.aclose()

    return asyncio.run(lifetime())


def published_from(stack: Stack, site: ChangingSite) -> list[dict[str, Any]]:
    return [article for article in read_json_topic(stack.settings, topics.ARTICLES_RAW)
            if article.get("source") == site.feed_url]


def test_articles_of_a_failed_publish_are_sent_after_a_restart_and_only_once(stack: Stack, site: ChangingSite) -> None:
    assert restarted_fetcher_polls(stack.settings, site, broker_fails_after=1) is None, "the poll failed"
    assert restarted_fetcher_polls(stack.settings, site) == 1, "the article the broker never took"
    assert restarted_fetcher_polls(stack.settings, site) == 0
    assert site.last_answer("/feed.xml") == 304, "once all was published, the feed's validators were kept"
    assert Counter(article["title"] for article in published_from(stack, site)) == Counter(
        {title: 1 for title, _ in STORIES.values()})


def test_a_page_that_was_down_is_fetched_after_a_restart(stack: Stack, site: ChangingSite) -> None:
    site.down = {"/stories/library.html"}
    assert restarted_fetcher_polls(stack.settings, site) == 1
    site.down = set()
    assert restarted_fetcher_polls(stack.settings, site) == 1, "the feed is read again, not answered 304"
    assert restarted_fetcher_polls(stack.settings, site) == 0
    assert sorted(article["title"] for article in published_from(stack, site)) == sorted(
        title for title, _ in STORIES.values())


def test_stories_updated_or_added_while_the_fetcher_was_down_are_published_after_restart(
    stack: Stack, site: ChangingSite
) -> None:
    assert restarted_fetcher_polls(stack.settings, site) == 2
    title, text = site.stories["harbour"]
    updated = text.replace("Monday", "Monday evening after a five-hour debate")
    site.stories["harbour"] = (title, updated)
    site.stories["museum"] = MUSEUM

    assert restarted_fetcher_polls(stack.settings, site) == 2
    assert restarted_fetcher_polls(stack.settings, site) == 0

    published = published_from(stack, site)
    harbour = [article for article in published if article["title"] == title]
    assert len({article["article_id"] for article in harbour}) == 1, "an update keeps the article id"
    assert ["Monday evening" in article["text"] for article in harbour] == [False, True], "the new version follows"
    assert Counter(article["title"] for article in published) == Counter(
        {title: 2, STORIES["library"][0]: 1, MUSEUM[0]: 1})
