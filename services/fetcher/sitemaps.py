"""News sitemaps (sitemaps.org + Google News extension): article URLs with publication dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from services.fetcher.errors import SourceError
from services.fetcher.extraction import parse_date
from services.fetcher.skips import listed_url

_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}
# No entity expansion, no network, no huge trees: a hostile sitemap cannot blow up memory.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    title: str
    published_at: datetime | None


def parse_news_sitemap(content: bytes, sitemap_url: str) -> list[SitemapEntry]:
    """The ``<url>`` entries with a usable http(s) location, newest first; others are skipped (``bad_url``)."""
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as error:
        raise SourceError(f"{sitemap_url}: not a readable sitemap: {error}", "malformed_sitemap") from error
    entries = []
    for node in root.findall("sm:url", _NS):
        url = listed_url(node.findtext("sm:loc", default="", namespaces=_NS) or "", sitemap_url,
                         f"sitemap {sitemap_url}: location")
        if url is None:
            continue
        entries.append(SitemapEntry(
            url=url,
            title=(node.findtext("news:news/news:title", default="", namespaces=_NS) or "").strip(),
            published_at=parse_date(node.findtext("news:news/news:publication_date", namespaces=_NS)
                                    or node.findtext("sm:lastmod", namespaces=_NS)),
        ))
    return sorted(entries, key=lambda entry: entry.published_at.timestamp() if entry.published_at else 0,
                  reverse=True)
