"""RSS and Atom feeds: their items as articles, with full content or the linked page's text."""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

import feedparser
import httpx

from newsmon.services.fetcher.errors import SourceError
from newsmon.services.fetcher.extraction import extract_page
from newsmon.shared.article_ids import article_id_for_url, canonical_url
from newsmon.shared.logs import log_event
from newsmon.shared.schemas import RawArticle

# Feed content shorter than this is a teaser: the article page holds the real text.
FULL_CONTENT_MIN_CHARS = 400
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed."""

    link: str
    title: str
    published_at: datetime | None
    content_html: str | None


def parse_feed(content: bytes, feed_url: str) -> list[FeedItem]:
    """The items of an RSS/Atom document; a document with no readable item raises SourceError."""
    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        raise SourceError(f"{feed_url}: not a readable feed: {parsed.get('bozo_exception')}")
    items = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            continue
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        contents = entry.get("content") or []
        items.append(FeedItem(
            link=link,
            title=entry.get("title", "").strip(),
            published_at=datetime.fromtimestamp(calendar.timegm(when), timezone.utc) if when else None,
            content_html=contents[0].get("value") if contents else None,
        ))
    return items


async def fetch_feed(client: httpx.AsyncClient, feed_url: str, *, tags: list[str] | None = None) -> list[RawArticle]:
    """Articles of one feed; an item whose page cannot be read is skipped with a logged reason."""
    response = await client.get(feed_url)
    if response.status_code != 200:
        raise SourceError(f"{feed_url}: HTTP {response.status_code}")
    articles = []
    for item in parse_feed(response.content, feed_url):
        article = await _article_for(client, item, feed_url, tags or [])
        if article is not None:
            articles.append(article)
    return articles


async def _article_for(client: httpx.AsyncClient, item: FeedItem, feed_url: str, tags: list[str]) -> RawArticle | None:
    page = extract_page(item.content_html, item.link) if item.content_html else None
    if page is None or len(page.text) < FULL_CONTENT_MIN_CHARS:
        try:
            response = await client.get(item.link)
            response.raise_for_status()
        except httpx.HTTPError as error:
            log_event(logger, "fetch.item_skipped", logging.WARNING, url=item.link, reason=str(error))
            return None
        page = extract_page(response.content, str(response.url))
    if page is None:
        log_event(logger, "fetch.item_skipped", logging.WARNING, url=item.link, reason="no article text")
        return None
    url = page.canonical_url or canonical_url(item.link)
    return RawArticle(
        article_id=article_id_for_url(url), url=item.link, canonical_url=url, title=item.title or page.title,
        text=page.text, source=feed_url, language=page.language,
        published_at=item.published_at or page.published_at, tags=tags,
    )
