"""Articles from local files and folders (.txt, .html, .jsonl), for replay and backfill."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from newsmon.services.fetcher.errors import SourceError
from newsmon.services.fetcher.extraction import extract_page, parse_date
from newsmon.shared.article_ids import article_id_for_content, article_id_for_url, canonical_url
from newsmon.shared.schemas import RawArticle, describe_validation_error

ARTICLE_SUFFIXES = (".txt", ".html", ".htm", ".jsonl")
_TITLE_SCAN_LINES = 12
_MAX_TITLE = 300


def iter_article_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The given files, and the article files below the given folders, in sorted order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in ARTICLE_SUFFIXES)
        elif path.is_file():
            yield path
        else:
            raise SourceError(f"{path}: no such file or folder")


def read_articles(path: Path) -> list[RawArticle]:
    """Every article in one file; raises SourceError naming the file (and line) on bad input."""
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return _read_jsonl(path)
    text = _decode(path)
    if suffix in (".html", ".htm"):
        page = extract_page(text, None)
        if page is None:
            raise SourceError(f"{path}: no article text found in the page")
        article_id = article_id_for_url(page.canonical_url) if page.canonical_url else article_id_for_content(page.text)
        return [RawArticle(article_id=article_id, url=page.canonical_url, canonical_url=page.canonical_url,
                           title=page.title, text=page.text, source=f"file:{path.name}", language=page.language,
                           published_at=page.published_at)]
    text = text.strip()
    if not text:
        raise SourceError(f"{path}: the file is empty")
    return [RawArticle(article_id=article_id_for_content(text), title=guess_title(text), text=text,
                       source=f"file:{path.name}")]


def guess_title(text: str) -> str:
    """The headline of scraped text: a headline-like line repeated near the top, else the first one.

    Scrapers put site chrome ("Skip to Content") first and often repeat the headline; headlines
    have 4 to 20 words and no final period, which tells them from leads and photo captions.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()][:_TITLE_SCAN_LINES]
    headline_like = [
        line for line in lines
        if 4 <= len(line.split()) <= 20 and not line.rstrip("\"'”’)").endswith((".", "!", "?"))
    ]
    repeated = [line for line in headline_like if lines.count(line) >= 2]
    title = (repeated or headline_like or lines)[0]
    if len(title) > _MAX_TITLE:
        title = title[:_MAX_TITLE].rsplit(" ", 1)[0]
    return title


def _decode(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _read_jsonl(path: Path) -> list[RawArticle]:
    articles = []
    for number, line in enumerate(_decode(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise SourceError(f"{path}:{number}: not JSON: {error.msg}") from error
        if not isinstance(item, dict) or not str(item.get("text") or "").strip():
            raise SourceError(f"{path}:{number}: field text: missing or empty")
        url = item.get("url")
        try:
            articles.append(RawArticle(
                article_id=article_id_for_url(url) if url else article_id_for_content(item["text"]),
                url=url,
                canonical_url=canonical_url(url) if url else None,
                title=item.get("title") or guess_title(item["text"]),
                text=item["text"].strip(),
                source=item.get("source") or f"file:{path.name}",
                language=item.get("language"),
                published_at=parse_date(item.get("published_at")),
                tags=item.get("tags") or [],
            ))
        except ValidationError as error:
            raise SourceError(f"{path}:{number}: {describe_validation_error(error)}") from error
    if not articles:
        raise SourceError(f"{path}: the file has no articles")
    return articles
