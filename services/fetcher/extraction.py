"""Main text and metadata of an article page, with trafilatura."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import trafilatura

from newsmon.shared.article_ids import canonical_url

# Less main text than this is a navigation, index or error page, not an article.
MIN_ARTICLE_CHARS = 120


@dataclass(frozen=True)
class ExtractedPage:
    """What an article page holds once navigation, ads and footers are gone."""

    title: str
    text: str
    author: str | None
    published_at: datetime | None
    language: str | None
    canonical_url: str | None


def parse_date(value: str | None) -> datetime | None:
    """An ISO date or datetime as a UTC datetime; None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=parsed.tzinfo or timezone.utc).astimezone(timezone.utc)


def extract_page(html: str | bytes, url: str | None) -> ExtractedPage | None:
    """The article in an HTML page, or None when the page has no main text."""
    document = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    if document is None or len((document.text or "").strip()) < MIN_ARTICLE_CHARS:
        return None
    page_url = document.url or url
    return ExtractedPage(
        title=(document.title or "").strip(),
        text=document.text.strip(),
        author=document.author or None,
        published_at=parse_date(document.date),
        language=document.language or None,
        canonical_url=canonical_url(page_url) if page_url else None,
    )
