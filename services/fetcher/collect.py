"""One poll of one source: feed, page, sitemap or files, turned into articles.

Used by the fetcher service and by ``newsmon fetch --once``. A page that cannot be read is
skipped with a logged, counted reason; only a source that cannot be read at all raises.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from services.fetcher.bounded_get import FetchError
from services.fetcher.errors import SourceError
from services.fetcher.extraction import extract_page, looks_binary
from services.fetcher.feeds import FULL_CONTENT_MIN_CHARS, parse_feed
from services.fetcher.files import FileStamp, PublishedFiles, file_stamp, iter_article_files, read_articles
from services.fetcher.metrics import SKIPPED
from services.fetcher.polite_http import Page, PoliteClient
from services.fetcher.sitemaps import parse_news_sitemap
from services.fetcher.skips import skip
from services.fetcher.sources import Source
from shared.article_ids import article_id_for_url, canonical_url
from shared.schemas import RawArticle

# A sitemap can list thousands of URLs; each poll looks at the newest ones only.
SITEMAP_MAX_ENTRIES = 50


@dataclass
class Collected:
    """What one poll of a source found, and the responses to commit once it is published.

    ``articles`` leaves out pages that answered 304: nothing new there. ``pages`` are the
    responses whose content was used up, turned into an article or deliberately skipped; hand
    them to ``PoliteClient.commit`` only after ``articles`` are published. The source's own feed
    or sitemap is among them only when no linked page failed transiently (timeout, 5xx), so the
    next poll reads the index in full and tries that page again instead of getting a 304;
    ``retry_later`` says that happened. ``files`` are the files of a files source as the poll found
    them, for ``PublishedFiles.remember`` once ``articles`` are published.
    """

    articles: list[RawArticle] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    retry_later: bool = False
    files: list[tuple[Path, FileStamp]] = field(default_factory=list)


async def collect(source: Source, http: PoliteClient, published: PublishedFiles | None = None) -> Collected:
    """What ``source`` offers now (of a files source, the files not ``published`` as they are now); a source
    that cannot be read raises SourceError, counted by its kind."""
    try:
        return await _collect(source, http, published)
    except SourceError as error:
        SKIPPED.labels(error.kind).inc()
        raise


async def _collect(source: Source, http: PoliteClient, published: PublishedFiles | None) -> Collected:
    if source.kind == "files":
        assert source.path is not None  # guaranteed by Source validation
        return _files(source, source.path, published)
    assert source.url is not None
    collected = Collected()
    if source.kind == "page":
        await _add_page(collected, http, source, source.url)
        return collected
    index = await http.get(source.url)
    if index.content is None:
        return collected
    if source.kind == "feed":
        await _feed(collected, http, source, index.content)
    else:
        await _sitemap(collected, http, source, index.content)
    if not collected.retry_later:
        collected.pages.append(index)
    return collected


async def _feed(collected: Collected, http: PoliteClient, source: Source, content: bytes) -> None:
    assert source.url is not None
    for item in parse_feed(content, source.url):
        page = extract_page(item.content_html, item.link) if item.content_html else None
        if page is not None and len(page.text) >= FULL_CONTENT_MIN_CHARS:
            url = page.canonical_url or canonical_url(item.link)
            collected.articles.append(RawArticle(
                article_id=article_id_for_url(url), url=item.link, canonical_url=url,
                title=item.title or page.title, text=page.text, source=source.url,
                language=page.language or item.language, published_at=item.published_at or page.published_at,
                tags=source.tags, author=item.author or page.author,
            ))
            continue
        await _add_page(collected, http, source, item.link, title=item.title, published_at=item.published_at,
                        author=item.author, language=item.language)


async def _sitemap(collected: Collected, http: PoliteClient, source: Source, content: bytes) -> None:
    assert source.url is not None
    for entry in parse_news_sitemap(content, source.url)[:SITEMAP_MAX_ENTRIES]:
        await _add_page(collected, http, source, entry.url, title=entry.title, published_at=entry.published_at)


async def _add_page(
    collected: Collected, http: PoliteClient, source: Source, url: str, *, title: str = "",
    published_at: datetime | None = None, author: str | None = None, language: str | None = None,
) -> None:
    """The article on one page, if any; what the feed or sitemap said fills what the page leaves out.

    A page answering 304 adds nothing: its article was published when its validators were committed.
    """
    try:
        page = await http.get(url)
    except FetchError as error:
        collected.retry_later = collected.retry_later or error.transient
        skip(url, error.kind, str(error))
        return
    if page.content is None:
        return
    collected.pages.append(page)
    if page.content_type and "html" not in page.content_type:
        skip(url, "not_html", f"content type {page.content_type}")
        return
    if looks_binary(page.content):
        skip(url, "binary", f"binary content ({len(page.content)} bytes) served as {page.content_type or 'no type'}")
        return
    extracted = extract_page(page.content, page.url)
    if extracted is None:
        skip(url, "no_text", "no article text on the page")
        return
    canonical = extracted.canonical_url or canonical_url(page.url)
    collected.articles.append(RawArticle(
        article_id=article_id_for_url(canonical), url=url, canonical_url=canonical,
        title=title or extracted.title, text=extracted.text, source=source.url or source.name,
        language=extracted.language or language, published_at=published_at or extracted.published_at,
        tags=source.tags, author=author or extracted.author,
    ))


def _files(source: Source, path: Path, published: PublishedFiles | None) -> Collected:
    collected = Collected()
    for file in iter_article_files([path]):
        try:
            stamp = file_stamp(file)  # before reading: a change made while it is read is read next time
        except FileNotFoundError:
            continue  # removed since the folder was listed
        collected.files.append((file, stamp))
        if published is not None and published.unchanged(file, stamp):
            continue
        try:
            collected.articles += [article.model_copy(update={"tags": source.tags}) for article in read_articles(file)]
        except SourceError as error:
            skip(str(file), "bad_file", str(error))
    return collected
