"""Main text and metadata of an article page, with trafilatura."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import trafilatura
from lxml.html import HtmlElement
from trafilatura.settings import Document, set_date_params
from trafilatura.utils import load_html

from services.fetcher.urls import same_site, web_url
from shared.article_ids import canonical_url

# Less main text than this is a navigation, index or error page, not an article.
MIN_ARTICLE_CHARS = 120
# htmldate keeps the time and the UTC offset, not only the day.
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
_PAGE_START = re.compile(r"<(?:!doctype|html|head|body)\b", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# Bytes no text encoding a page could use puts in its markup (tab, newline, form feed, carriage
# return and ESC, which ISO-2022 uses, excepted); NUL is in the list.
_CONTROL_BYTES = bytes(set(range(0x20)) - set(b"\t\n\f\r\x1b"))
_BINARY_SAMPLE_BYTES = 8192
_MAX_CONTROL_SHARE = 0.02


@dataclass(frozen=True)
class ExtractedPage:
    """What an article page holds once navigation, ads and footers are gone."""

    title: str
    text: str
    author: str | None
    published_at: datetime | None
    language: str | None
    canonical_url: str | None


def looks_binary(data: bytes) -> bool:
    """True for an image, archive or other binary body, whatever Content-Type it was served with.

    Decoding such bytes "never fails" (latin-1 takes anything), so without this check random bytes
    would come out as an article of mojibake. Real pages hold no NUL and almost no other control
    bytes; a binary body has them within its first few kilobytes.
    """
    sample = data[:_BINARY_SAMPLE_BYTES]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > len(sample) * _MAX_CONTROL_SHARE


def primary_language(tag: str | None) -> str | None:
    """The primary subtag of a declared language (``en`` for ``en-GB`` or ``en_us``), lower-cased; None if unusable."""
    primary = (tag or "").replace("_", "-").split(",")[0].split("-")[0].strip().lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def parse_date(value: str | None) -> datetime | None:
    """An ISO date or datetime as a UTC datetime (naive ones taken as UTC); None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=parsed.tzinfo or timezone.utc).astimezone(timezone.utc)


def extract_page(html: str | bytes, url: str | None) -> ExtractedPage | None:
    """The article in an HTML page or fragment (feed content), or None when there is no main text.

    ``canonical_url`` comes from the page's ``<link rel=canonical>`` (resolved against ``url``)
    when that is a usable http(s) URL on the page's own site (``urls.same_site``: same host, a
    ``www.`` prefix aside), else from ``url``; it is None only when neither exists. A page cannot
    claim another site's address, so it can never take over that site's article id or story.
    Without ``url`` (a local file) the canonical link is the only address there is, and is used.
    The headline is in ``title``, not repeated as the first line of ``text``.
    """
    markup = _decode_html(html) if isinstance(html, bytes) else html
    if not _PAGE_START.search(markup[:4096]):
        markup = f"<html><body>{markup}</body></html>"  # feed content is a fragment; trafilatura wants a page
    tree = load_html(markup)
    if tree is None:
        return None
    page_url = _canonical_link(tree, url) or url
    language = _declared_language(tree)
    document = trafilatura.bare_extraction(
        tree, url=url, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True,
        date_extraction_params=_date_params(),
    )
    if not isinstance(document, Document):  # None: no main text; a dict only with as_dict=True
        return None
    title = (document.title or "").strip()
    text = _without_headline((document.text or "").strip(), title)
    if len(text) < MIN_ARTICLE_CHARS:
        return None
    return ExtractedPage(
        title=title,
        text=text,
        author=document.author or None,
        published_at=parse_date(document.date),
        language=language,
        canonical_url=canonical_url(page_url) if page_url else None,
    )


def _date_params() -> dict[str, object]:
    """htmldate's defaults, keeping the time, and accepting dates up to tomorrow (UTC).

    htmldate drops dates after ``max_date`` (by default the server's local day), which would
    discard a fresh story dated in a time zone already past midnight, e.g. Tokyo.
    """
    tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
    return {**set_date_params(), "outputformat": _DATE_FORMAT, "max_date": tomorrow.strftime("%Y-%m-%d")}


def _decode_html(data: bytes) -> str:
    """UTF-8, else the charset the page declares, else cp1252: never fails, never guesses.

    As in browsers, a page declaring latin-1 or ASCII is read as cp1252, its superset, so the
    curly quotes and dashes such pages really contain are not lost.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(data[:4096])
    try:
        encoding = codecs.lookup(declared.group(1).decode("ascii")).name if declared else "cp1252"
    except LookupError:
        encoding = "cp1252"
    for candidate in ("cp1252" if encoding in ("iso8859-1", "ascii") else encoding, "cp1252"):
        try:
            return data.decode(candidate)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _canonical_link(tree: HtmlElement, url: str | None) -> str | None:
    for link in tree.iterfind(".//link[@href]"):
        if "canonical" in (link.get("rel") or "").lower().split():
            resolved = web_url(link.get("href", ""), url)
            if resolved is not None and (url is None or same_site(resolved, url)):
                return resolved
    return None


def _declared_language(tree: HtmlElement) -> str | None:
    """The primary language subtag the page declares (``en`` for ``en-GB``), lower-cased."""
    declared = tree.get("lang") or next(
        (meta.get("content") for meta in tree.iterfind(".//meta[@content]")
         if (meta.get("http-equiv") or meta.get("property") or "").lower() in ("content-language", "og:locale")),
        None,
    )
    return primary_language(declared)


def _without_headline(text: str, title: str) -> str:
    first, _, rest = text.partition("\n")
    return rest.strip() if title and first.strip() == title else text
