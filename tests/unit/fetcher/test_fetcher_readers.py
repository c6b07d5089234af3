"""Fetcher readers on real-world shapes: scraped text, pages with boilerplate, feeds, sitemaps, sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from services.fetcher.errors import SourceError
from services.fetcher.extraction import extract_page
from services.fetcher.feeds import parse_feed
from services.fetcher.files import guess_title, iter_article_files, read_articles
from services.fetcher.sitemaps import parse_news_sitemap
from services.fetcher.sources import configured_sources, parse_sources

PAGE = """<html><head><title>Quake hits coast | Example News</title>
<link rel="canonical" href="https://News.Example.com/world/quake?utm_source=rss#top">
<meta property="article:published_time" content="2026-11-20T06:30:00Z"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<div id="cookie">We use cookies. Accept all cookies</div>
<article><h1>Quake hits coast</h1>
<p>A strong earthquake struck off the northern coast early on Friday, the geological survey said.</p>
<p>Residents reported shaking for nearly a minute, and several old buildings in the harbour town were damaged.</p>
<p>Authorities said there was no tsunami warning, but schools would stay closed while engineers inspect them.</p>
</article><div class="share">Share on Facebook Share on X</div>
<aside><h3>Related</h3><ul><li><a href="/a">Storm season begins</a></li></ul></aside>
<footer>© Example News 2026. All rights reserved.</footer></body></html>"""


def test_titles_of_the_seed_articles(sample_dir: Path) -> None:
    titles = {path.name: read_articles(path)[0].title for path in iter_article_files([sample_dir])}
    assert titles["000_1a88f4a49be5f51d.txt"] == (
        "NATO and the EU urge G7 nations to step up air defense for Ukraine and expand Iran sanctions")
    assert titles["002_d327a6ada714b97a.txt"] == "US Secretary of State Blinken to travel again to Israel for talks"
    assert titles["001_757be6f2e390ada8.txt"].startswith("Upon arriving in Asia")


def test_headline_like_repeated_line_beats_site_chrome() -> None:
    text = "Skip to Content\nBig storm hits the coast tonight\nNews\nBig storm hits the coast tonight\nBody."
    assert guess_title(text) == "Big storm hits the coast tonight"


def test_file_ids_follow_content_so_replays_keep_them(tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("Same words here.\nAnd more.")
    second.write_text("Same words here.\nAnd more.")
    assert read_articles(first)[0].article_id == read_articles(second)[0].article_id


def test_non_utf8_text_is_read_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Café au lait in São Paulo, déjà vu.".encode("cp1252"))
    assert "Café" in read_articles(path)[0].text


def test_jsonl_errors_name_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_text(json.dumps({"text": "ok", "url": "https://a.example/x?utm_medium=y"}) + "\n{broken\n")
    with pytest.raises(SourceError, match=rf"{path}:2: not JSON"):
        read_articles(path)
    path.write_text(json.dumps({"title": "no text"}) + "\n")
    with pytest.raises(SourceError, match=rf"{path}:1: field text"):
        read_articles(path)


def test_empty_and_missing_files_are_clear_errors(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("  \n")
    with pytest.raises(SourceError, match="empty.txt: the file is empty"):
        read_articles(tmp_path / "empty.txt")
    with pytest.raises(SourceError, match="nope: no such file or folder"):
        list(iter_article_files([tmp_path / "nope"]))


def test_page_extraction_keeps_the_story_and_drops_the_chrome() -> None:
    page = extract_page(PAGE, "https://news.example.com/world/quake")
    assert page is not None
    assert page.title == "Quake hits coast"
    assert page.canonical_url == "https://news.example.com/world/quake"
    assert page.published_at is not None and page.published_at.isoformat().startswith("2026-11-20")
    assert "no tsunami warning" in page.text and "harbour town" in page.text
    for chrome in ("Home", "cookies", "Share on", "Storm season", "All rights reserved"):
        assert chrome not in page.text


def test_pages_without_text_give_nothing() -> None:
    assert extract_page("<html><body><nav>Home</nav></body></html>", None) is None


def test_rss_with_html_descriptions_and_atom_with_full_content() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
      <item><title>One</title><link>https://a.example/1</link><pubDate>Fri, 20 Nov 2026 06:30:00 GMT</pubDate>
      <description>&lt;p&gt;Teaser with &lt;b&gt;HTML&lt;/b&gt;&lt;/p&gt;</description></item></channel></rss>"""
    (item,) = parse_feed(rss, "https://a.example/rss")
    assert (item.link, item.title, item.content_html) == ("https://a.example/1", "One", None)
    assert item.published_at is not None and item.published_at.hour == 6
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
      <entry><title>Two</title><link href="https://a.example/2"/><updated>2026-11-20T07:00:00Z</updated>
      <content type="html">&lt;p&gt;Full text&lt;/p&gt;</content></entry></feed>"""
    (entry,) = parse_feed(atom, "https://a.example/atom")
    assert entry.content_html == "<p>Full text</p>"


def test_truncated_feed_still_yields_its_items_and_garbage_is_an_error() -> None:
    truncated = b"""<rss version="2.0"><channel><item><title>Kept</title><link>https://a.example/k</link></item>
      <item><title>Cut"""
    assert [item.title for item in parse_feed(truncated, "u")] == ["Kept"]
    with pytest.raises(SourceError, match="https://a.example/feed: not a readable feed"):
        parse_feed(b"\x89PNG\r\n\x1a\n binary", "https://a.example/feed")


def entity_bomb(levels: int, root: str, inner: str) -> bytes:
    """A "billion laughs" document: each entity is ten of the one before; ``&lol<levels>;`` is 3 * 10**levels chars."""
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, levels + 1))
    return f'<?xml version="1.0"?><!DOCTYPE {root} [{entities}]>{inner.replace("BOMB", f"&lol{levels};")}'.encode()


def test_the_entity_bomb_is_real() -> None:
    # The same construction, small enough to expand, expands as designed: at 9 levels it is 3 GB.
    small = entity_bomb(3, "urlset", "<urlset><url><loc>BOMB</loc></url></urlset>")
    expanded = etree.fromstring(small, etree.XMLParser(resolve_entities=True)).findtext("url/loc")
    assert expanded == "lol" * 1000


def test_entity_bomb_sitemap_is_refused_or_left_unexpanded() -> None:
    bomb = entity_bomb(9, "urlset", '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                                    "<url><loc>https://a.example/BOMB</loc></url></urlset>")
    try:
        entries = parse_news_sitemap(bomb, "https://a.example/sitemap.xml")
    except SourceError:
        return
    assert sum(len(entry.url) + len(entry.title) for entry in entries) < 1000


def test_entity_bomb_feed_is_refused_or_left_unexpanded() -> None:
    bomb = entity_bomb(9, "rss", "<rss version='2.0'><channel><title>BOMB</title><item><title>BOMB</title>"
                                 "<link>https://a.example/BOMB</link><description>BOMB</description></item>"
                                 "</channel></rss>")
    try:
        items = parse_feed(bomb, "https://a.example/rss")
    except SourceError:
        return
    assert sum(len(item.link) + len(item.title) + len(item.summary) for item in items) < 1000


def test_news_sitemap_newest_first() -> None:
    sitemap = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>https://a.example/old</loc><news:news><news:publication_date>2026-11-19T08:00:00Z</news:publication_date>
      <news:title>Old</news:title></news:news></url>
      <url><loc>https://a.example/new</loc><news:news><news:publication_date>2026-11-20T08:00:00Z</news:publication_date>
      <news:title>New</news:title></news:news></url></urlset>"""
    assert [entry.title for entry in parse_news_sitemap(sitemap, "u")] == ["New", "Old"]


def test_sources_file_errors_name_source_and_field() -> None:
    text = "sources:\n  - name: wire\n    kind: feed\n    url: https://a.example/rss\n    interval_s: -5\n"
    with pytest.raises(SourceError, match=r"s.yaml: source 'wire': field interval_s: Input should be greater than 0"):
        parse_sources(text, "s.yaml")
    with pytest.raises(SourceError, match="source names must be unique: a"):
        parse_sources("sources:\n" + "  - {name: a, kind: page, url: 'https://a.example/'}\n" * 2, "s.yaml")
    disabled = "sources:\n  - {name: a, kind: page, url: 'https://a.example/', enabled: false, tags: [x]}\n"
    assert parse_sources(disabled, "s.yaml") == []


@pytest.mark.parametrize(("url", "problem"), [
    ("ftp://a.example/feed", "url must start with http:// or https://, got 'ftp://a.example/feed'"),
    ("http://[bad/feed", "url is not a valid URL: 'http://[bad/feed'"),
])
def test_bad_feed_urls_are_one_line_errors_naming_where_they_came_from(url: str, problem: str) -> None:
    with pytest.raises(SourceError) as error:
        configured_sources(None, ["https://a.example/rss", url], 60, feeds_origin="--feed")
    assert str(error.value) == f"--feed: {problem}"
