"""RSS and Atom feeds: their items as articles, with full content or the linked page's text."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timezone

import feedparser

from newsmon.services.fetcher.errors import SourceError

# Feed content shorter than this is a teaser: the article page holds the real text.
FULL_CONTENT_MIN_CHARS = 400


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed."""

    link: str
    title: str
    published_at: datetime | None
    content_html: str | None


def parse_feed(content: bytes, feed_url: str) -> list[FeedItem]:
    """The items of an RSS/Atom document; a document with no readable item raises SourceError.

    feedparser copes with malformed, truncated and mislabelled feeds ("bozo" feeds); one that
    still yields entries is used, one that yields none is reported with feedparser's reason.
    """
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
