"""One poll of one source: feed, page, sitemap or files, turned into articles.

Used by the fetcher service and by ``newsmon fetch --once``. A page that cannot be read is
skipped with a logged, counted reason; only a source that cannot be read at all raises.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from prometheus_client import Counter

from newsmon.services.fetcher.errors import SourceError
from newsmon.services.fetcher.extraction import extract_page
from newsmon.services.fetcher.feeds import FULL_CONTENT_MIN_CHARS, parse_feed
from newsmon.services.fetcher.files import iter_article_files, read_articles
from newsmon.services.fetcher.polite_http import FetchError, PoliteClient
from newsmon.services.fetcher.sitemaps import parse_news_sitemap
from newsmon.services.fetcher.sources import Source
from newsmon.shared.article_ids import article_id_for_url, canonical_url
from newsmon.shared.logs import log_event
from newsmon.shared.schemas import RawArticle

SKIPPED = Counter("newsmon_fetch_skipped_total", "Items skipped by the fetcher, by reason.", ["reason"])
# A sitemap can list thousands of URLs; each poll looks at the newest ones only.
SITEMAP_MAX_ENTRIES = 50
logger = logging.getLogger(__name__)


async def collect(source: Source, http: PoliteClient) -> list[RawArticle]:
    """Articles currently offered by ``source`` (pages answering 304 are left out: nothing new)."""
    if source.kind == "files":
        assert source.path is not None  # guaranteed by Source validation
        return _files(source, source.path)
    assert source.url is not None
    if source.kind == "page":
        article = await article_from_page(http, source, source.url)
        return [article] if article else []
    index = await http.get(source.url)
    if index.content is None:
        return []
    if source.kind == "feed":
        return await _feed(source, http, index.content)
    return await _sitemap(source, http, index.content)


async def _feed(source: Source, http: PoliteClient, content: bytes) -> list[RawArticle]:
    assert source.url is not None
    articles = []
    for item in parse_feed(content, source.url):
        page = extract_page(item.content_html, item.link) if item.content_html else None
        if page is not None and len(page.text) >= FULL_CONTENT_MIN_CHARS:
            url = page.canonical_url or canonical_url(item.link)
            articles.append(RawArticle(
                article_id=article_id_for_url(url), url=item.link, canonical_url=url,
                title=item.title or page.title, text=page.text, source=source.url, language=page.language,
                published_at=item.published_at or page.published_at, tags=source.tags,
            ))
            continue
        article = await article_from_page(http, source, item.link, title=item.title, published_at=item.published_at)
        if article:
            articles.append(article)
    return articles


async def _sitemap(source: Source, http: PoliteClient, content: bytes) -> list[RawArticle]:
    assert source.url is not None
    articles = []
    for entry in parse_news_sitemap(content, source.url)[:SITEMAP_MAX_ENTRIES]:
        article = await article_from_page(http, source, entry.url, title=entry.title, published_at=entry.published_at)
        if article:
            articles.append(article)
    return articles


async def article_from_page(
    http: PoliteClient, source: Source, url: str, *, title: str = "", published_at: datetime | None = None
) -> RawArticle | None:
    """The article on one page; None when unchanged (304) or unreadable (logged and counted)."""
    try:
        page = await http.get(url)
    except FetchError as error:
        return _skip(url, error.kind, str(error))
    if page.content is None:
        return None
    if "html" not in page.content_type and page.content_type:
        return _skip(url, "not_html", f"content type {page.content_type}")
    extracted = extract_page(page.content, page.url)
    if extracted is None:
        return _skip(url, "no_text", "no article text on the page")
    canonical = extracted.canonical_url or canonical_url(page.url)
    return RawArticle(
        article_id=article_id_for_url(canonical), url=url, canonical_url=canonical,
        title=title or extracted.title, text=extracted.text, source=source.url or source.name,
        language=extracted.language, published_at=published_at or extracted.published_at, tags=source.tags,
    )


def _files(source: Source, path: Path) -> list[RawArticle]:
    articles = []
    for file in iter_article_files([path]):
        try:
            articles += [article.model_copy(update={"tags": source.tags}) for article in read_articles(file)]
        except SourceError as error:
            _skip(str(file), "bad_file", str(error))
    return articles


def _skip(url: str, reason: str, detail: str) -> None:
    SKIPPED.labels(reason).inc()
    log_event(logger, "fetch.item_skipped", logging.WARNING, url=url, reason=reason, detail=detail)
    return None
