"""Articles from local files and folders (.txt, .html, .htm, .jsonl), for replay and backfill."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from services.fetcher.errors import SourceError
from services.fetcher.extraction import extract_page
from shared.article_ids import article_id_for_content, article_id_for_url, canonical_url
from shared.schemas import RawArticle

ARTICLE_SUFFIXES = (".txt", ".html", ".htm", ".jsonl")
# A file as a poll found it: (modification time in ns, size in bytes).
FileStamp = tuple[int, int]
_TITLE_SCAN_LINES = 12
_MAX_TITLE = 300


class _JsonlLine(BaseModel):
    """One line of a .jsonl file; fields newsmon does not know are ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    text: str = Field(min_length=1)
    title: str = ""
    url: str | None = None
    published_at: datetime | None = None
    source: str | None = None
    tags: list[str] = Field(default_factory=list)
    language: str | None = None
    author: str | None = None

    @field_validator("published_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """A time without a zone is taken as UTC."""
        return value.replace(tzinfo=value.tzinfo or timezone.utc).astimezone(timezone.utc) if value else None


def iter_article_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each given file as is; below each given folder, its article files (hidden ones left out), sorted."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                found for found in path.rglob("*")
                if found.is_file() and found.suffix.lower() in ARTICLE_SUFFIXES
                and not any(part.startswith(".") for part in found.relative_to(path).parts)
            )
        elif path.is_file():
            yield path
        else:
            raise SourceError(f"{path}: no such file or folder")


def file_stamp(path: Path) -> FileStamp:
    status = path.stat()
    return status.st_mtime_ns, status.st_size


class PublishedFiles:
    """The files of a source whose articles were all published (or skipped on purpose), as they were then.

    A folder polled every few seconds was read whole on every poll, each article parsed and looked up
    in Redis: a folder of thousands of files cost CPU all day while nothing in it changed. A file whose
    modification time and size are those remembered here is not read again; one that changed is read
    whole (what it already held is recognised in Redis, so nothing is sent twice). Kept in memory, like
    the loop that polls the source: a restarted fetcher reads each file once more.
    """

    def __init__(self) -> None:
        self._stamps: dict[Path, FileStamp] = {}

    def unchanged(self, path: Path, stamp: FileStamp) -> bool:
        return self._stamps.get(path) == stamp

    def remember(self, stamps: Iterable[tuple[Path, FileStamp]]) -> None:
        """After a poll published everything: its files as it found them (files gone since are forgotten)."""
        self._stamps = dict(stamps)


def read_articles(path: Path) -> list[RawArticle]:
    """Every article in one file; bad input raises SourceError naming the file (and the line for .jsonl)."""
    suffix = path.suffix.lower()
    if suffix not in ARTICLE_SUFFIXES:
        raise SourceError(f"{path}: not an article file; expected one of {', '.join(ARTICLE_SUFFIXES)}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(f"{path}: cannot read the file: {error.strerror}") from error
    content = _decode(data)
    if not content.strip():
        raise SourceError(f"{path}: the file is empty")
    if suffix == ".jsonl":
        return _from_jsonl(path, content)
    if suffix in (".html", ".htm"):
        return [_from_html(path, data)]  # the bytes: extraction honours the page's declared charset
    text = content.strip()
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
    title = (repeated or headline_like or lines or [""])[0]
    if len(title) > _MAX_TITLE:
        title = title[:_MAX_TITLE].rsplit(" ", 1)[0]
    return title


def _decode(data: bytes) -> str:
    """UTF-8, else cp1252 (what legacy Windows tools write), else latin-1, which never fails."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _from_html(path: Path, data: bytes) -> RawArticle:
    page = extract_page(data, None)
    if page is None:
        raise SourceError(f"{path}: no article text found in the page")
    article_id = article_id_for_url(page.canonical_url) if page.canonical_url else article_id_for_content(page.text)
    return RawArticle(
        article_id=article_id, url=page.canonical_url, canonical_url=page.canonical_url, title=page.title,
        text=page.text, source=f"file:{path.name}", language=page.language, published_at=page.published_at,
        author=page.author,
    )


def _from_jsonl(path: Path, content: str) -> list[RawArticle]:
    articles = []
    # Not splitlines(): JSON strings may hold U+2028 and other separators it would split on.
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            item = _JsonlLine.model_validate(json.loads(line))
        except json.JSONDecodeError as error:
            raise SourceError(f"{path}:{number}: not JSON: {error.msg} (column {error.colno})") from error
        except ValidationError as error:
            problems = "; ".join(
                f"field {'.'.join(map(str, problem['loc']))}: {problem['msg']}" if problem["loc"] else problem["msg"]
                for problem in error.errors()
            )
            raise SourceError(f"{path}:{number}: {problems}") from error
        articles.append(RawArticle(
            article_id=article_id_for_url(item.url) if item.url else article_id_for_content(item.text),
            url=item.url or None,
            canonical_url=canonical_url(item.url) if item.url else None,
            title=item.title or guess_title(item.text),
            text=item.text,
            source=item.source or f"file:{path.name}",
            language=item.language or None,
            published_at=item.published_at,
            tags=item.tags,
            author=item.author or None,
        ))
    return articles
