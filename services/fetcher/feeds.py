"""RSS and Atom feeds: their items, with the full content when the feed carries it."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import feedparser

from services.fetcher.errors import SourceError
from services.fetcher.extraction import primary_language
from services.fetcher.skips import listed_url

# Feed content shorter than this is a teaser: the article page holds the real text.
FULL_CONTENT_MIN_CHARS = 400


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed.

    ``link`` is absolute and ``published_at`` UTC. ``content_html`` is the full body
    (``content:encoded``, Atom ``<content>``), None when the feed only has a teaser;
    ``summary`` is that teaser (``<description>``, Atom ``<summary>``) as given, possibly HTML.
    ``author`` is the item's author (``<author>``, ``<dc:creator>``) by name; ``language`` the
    primary subtag of the feed's ``<language>`` (``xml:lang`` for Atom), which items share.
    """

    link: str
    title: str
    published_at: datetime | None
    content_html: str | None = None
    summary: str = ""
    author: str | None = None
    language: str | None = None


def parse_feed(content: bytes, feed_url: str) -> list[FeedItem]:
    """The items of an RSS/Atom document that have a usable link, in feed order.

    feedparser copes with malformed, truncated and mislabelled feeds ("bozo" feeds); one that
    still yields entries is used, one that yields none raises SourceError (kind ``malformed_feed``)
    with feedparser's reason. An item whose link is not an http(s) URL is skipped (``bad_url``).
    """
    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        raise SourceError(f"{feed_url}: not a readable feed: {parsed.get('bozo_exception')}", "malformed_feed")
    language = primary_language(parsed.feed.get("language"))
    items = []
    for entry in parsed.entries:
        link = listed_url(entry.get("link", ""), feed_url, f"feed {feed_url}: item link")
        if link is None:
            continue
        items.append(FeedItem(
            link=link,
            title=entry.get("title", "").strip(),
            published_at=_published(entry),
            content_html=_full_content(entry),
            summary=entry.get("summary", "").strip(),
            author=_author(entry),
            language=language,
        ))
    return items


def _published(entry: Any) -> datetime | None:
    """feedparser's parsed dates are UTC struct_times."""
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(calendar.timegm(when), timezone.utc) if when else None


def _full_content(entry: Any) -> str | None:
    for content in entry.get("content") or []:
        if content.get("type", "text/html") != "text/plain" and content.get("value", "").strip():
            return str(content["value"])
    return None


def _author(entry: Any) -> str | None:
    """The name alone: RSS ``<author>`` is often ``jane@example.com (Jane Doe)``, or just the address."""
    detail = entry.get("author_detail") or {}
    name = detail.get("name") or ("" if detail.get("email") else entry.get("author", ""))
    return str(name).strip() or None
