"""RSS and Atom feeds: their items, with the full content when the feed carries it."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin

import feedparser

from newsmon.services.fetcher.errors import SourceError

# Feed content shorter than this is a teaser: the article page holds the real text.
FULL_CONTENT_MIN_CHARS = 400


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed.

    ``link`` is absolute and ``published_at`` UTC. ``content_html`` is the full body
    (``content:encoded``, Atom ``<content>``), None when the feed only has a teaser;
    ``summary`` is that teaser (``<description>``, Atom ``<summary>``) as given, possibly HTML.
    """

    link: str
    title: str
    published_at: datetime | None
    content_html: str | None = None
    summary: str = ""


def parse_feed(content: bytes, feed_url: str) -> list[FeedItem]:
    """The items of an RSS/Atom document that have a link, in feed order.

    feedparser copes with malformed, truncated and mislabelled feeds ("bozo" feeds); one that
    still yields entries is used, one that yields none raises SourceError with feedparser's reason.
    """
    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        raise SourceError(f"{feed_url}: not a readable feed: {parsed.get('bozo_exception')}")
    return [
        FeedItem(
            link=urljoin(feed_url, entry["link"].strip()),
            title=entry.get("title", "").strip(),
            published_at=_published(entry),
            content_html=_full_content(entry),
            summary=entry.get("summary", "").strip(),
        )
        for entry in parsed.entries
        if entry.get("link", "").strip()
    ]


def _published(entry: Any) -> datetime | None:
    """feedparser's parsed dates are UTC struct_times."""
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(calendar.timegm(when), timezone.utc) if when else None


def _full_content(entry: Any) -> str | None:
    for content in entry.get("content") or []:
        if content.get("type", "text/html") != "text/plain" and content.get("value", "").strip():
            return str(content["value"])
    return None
