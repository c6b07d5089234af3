"""Feeds end to end against a local news site: teaser feeds lead to clean pages, full feeds to no fetch."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest
from guarded_fetching import polite
from prometheus_client import REGISTRY

from services.fetcher.collect import collect
from services.fetcher.errors import SourceError
from services.fetcher.feeds import parse_feed
from services.fetcher.polite_http import PoliteClient
from services.fetcher.sources import Source
from shared.article_ids import article_id_for_url
from tests.news_site import BOILERPLATE, STORIES, NewsSite


@pytest.fixture
async def http() -> AsyncIterator[PoliteClient]:
    async with polite() as client:
        yield client


def feed_source(url: str) -> Source:
    return Source(name="daily", kind="feed", url=url, tags=["local"])


def page_source(url: str) -> Source:
    return Source(name="one-page", kind="page", url=url)


def skipped_count(reason: str) -> float:
    return REGISTRY.get_sample_value("newsmon_fetch_skipped_total", {"reason": reason}) or 0.0


def skipped_items(caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    """URL -> reason of every item the fetcher logged as skipped."""
    return {record.fields["url"]: record.fields["reason"]  # type: ignore[attr-defined]
            for record in caplog.records if record.getMessage() == "fetch.item_skipped"}


async def test_teaser_feed_items_become_the_clean_stories_of_their_pages(
    news_site: NewsSite, http: PoliteClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    articles = (await collect(feed_source(news_site.rss_url), http)).articles

    assert [article.title for article in articles] == [story.title for story in STORIES.values()]
    for article, (slug, story) in zip(articles, STORIES.items(), strict=True):
        assert all(paragraph in article.text for paragraph in story.paragraphs)
        assert not any(chrome in article.text for chrome in BOILERPLATE), article.text
        assert article.canonical_url == f"{news_site.base}/news/{slug}"
        assert article.article_id == article_id_for_url(article.canonical_url)
        assert article.url == f"{news_site.base}/news/{slug}?utm_source=rss&utm_medium=feed"
        assert (article.source, article.tags, article.language) == (news_site.rss_url, ["local"], "en")
        assert article.author == "Maria Lind"
    assert [article.published_at for article in articles] == [
        datetime(2026, 11, 20, 6, 45, tzinfo=timezone.utc), datetime(2026, 11, 18, 14, 5, tzinfo=timezone.utc)]

    assert skipped_items(caplog) == {f"{news_site.base}/news/gone": "http_4xx",
                                     f"{news_site.base}/news/video": "no_text"}


async def test_full_content_feed_needs_no_page_fetch(news_site: NewsSite, http: PoliteClient) -> None:
    articles = (await collect(feed_source(news_site.atom_url), http)).articles

    assert not any(path.startswith("/full/") for path in news_site.hits), "pages fetched despite full content"
    assert [article.title for article in articles] == [story.title for story in STORIES.values()]
    for article, (slug, story) in zip(articles, STORIES.items(), strict=True):
        assert article.text == "\n".join(story.paragraphs)
        assert article.canonical_url == f"{news_site.base}/full/{slug}"
        assert article.published_at == datetime.fromisoformat(story.published_iso)
        assert (article.author, article.language) == ("Maria Lind", "en"), "from the entry and the feed's xml:lang"


async def test_unreachable_or_unreadable_feed_is_a_source_error_naming_it(
    news_site: NewsSite, http: PoliteClient
) -> None:
    with pytest.raises(SourceError, match=rf"{news_site.base}/missing.xml: .*HTTP 404"):
        await collect(feed_source(f"{news_site.base}/missing.xml"), http)
    with pytest.raises(SourceError, match=rf"{news_site.base}/garbage.xml: not a readable feed: \S+"):
        await collect(feed_source(f"{news_site.base}/garbage.xml"), http)


async def test_a_malformed_feed_is_counted_by_kind(news_site: NewsSite, http: PoliteClient) -> None:
    before = skipped_count("malformed_feed")
    with pytest.raises(SourceError):
        await collect(feed_source(f"{news_site.base}/garbage.xml"), http)
    assert skipped_count("malformed_feed") == before + 1


async def test_articles_come_again_until_their_validators_are_committed(
    news_site: NewsSite, http: PoliteClient
) -> None:
    # Publishing may fail after the fetch: until commit, nothing may be answered 304 and lost.
    first = await collect(feed_source(news_site.rss_url), http)
    again = await collect(feed_source(news_site.rss_url), http)
    assert [a.title for a in again.articles] == [a.title for a in first.articles] == [s.title for s in STORIES.values()]

    await http.commit(again.pages)
    assert (await collect(feed_source(news_site.rss_url), http)).articles == []
    assert news_site.hits["/rss.xml"] == 3


async def test_a_page_that_failed_transiently_is_tried_again_on_the_next_poll(
    news_site: NewsSite, http: PoliteClient
) -> None:
    news_site.down = {"/news/quota-protest"}
    first = await collect(feed_source(news_site.rss_url), http)
    assert [article.title for article in first.articles] == [STORIES["rail-reopens"].title]
    await http.commit(first.pages)

    news_site.down = set()
    second = await collect(feed_source(news_site.rss_url), http)
    assert [article.title for article in second.articles] == [STORIES["quota-protest"].title]
    assert news_site.hits["/news/rail-reopens"] == 2, "the published page is asked conditionally, not refetched"
    await http.commit(second.pages)
    assert (await collect(feed_source(news_site.rss_url), http)).articles == []


async def test_unusable_links_are_skipped_and_a_bad_canonical_falls_back_to_the_page_url(
    news_site: NewsSite, http: PoliteClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    before = skipped_count("bad_url")

    (article,) = (await collect(feed_source(news_site.bad_links_url), http)).articles

    assert article.canonical_url == f"{news_site.base}/bad-canonical/quota-protest"
    assert article.title == "Good story, bad canonical"
    assert skipped_items(caplog) == {"http://[bad/x": "bad_url", "javascript:alert(1)": "bad_url"}
    assert skipped_count("bad_url") == before + 2


@pytest.mark.parametrize("path", ["/binary/random.html", "/untyped/random", "/untyped/image"])
async def test_binary_content_is_skipped_not_published(
    news_site: NewsSite, http: PoliteClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    caplog.set_level(logging.WARNING)
    before = skipped_count("binary")
    assert (await collect(page_source(news_site.base + path), http)).articles == []
    assert skipped_items(caplog) == {news_site.base + path: "binary"}
    assert skipped_count("binary") == before + 1


async def test_a_real_page_without_content_type_is_still_an_article(news_site: NewsSite, http: PoliteClient) -> None:
    (article,) = (await collect(page_source(f"{news_site.base}/untyped/rail-reopens"), http)).articles
    assert article.title == STORIES["rail-reopens"].title


def test_rss_items_with_full_content_teasers_relative_links_and_zoned_dates() -> None:
    rss = b"""<?xml version="1.0" encoding="utf-8"?>
    <rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>
      <item><title> Rates &amp; prices </title><link> /business/rates?utm_source=rss </link>
        <pubDate>Fri, 20 Nov 2026 07:30:00 +0100</pubDate><description>&lt;p&gt;Teaser&lt;/p&gt;</description>
        <content:encoded><![CDATA[<p>The full story.</p>]]></content:encoded></item>
      <item><title>Permalink guid only</title><guid isPermaLink="true">https://a.example/guid</guid>
        <author>desk@example.com (Sam Reyes)</author></item>
      <item><title>No link at all</title><description>Nothing to fetch</description></item>
    </channel></rss>"""
    first, second = parse_feed(rss, "https://a.example/feeds/main.xml")
    assert (first.link, first.title) == ("https://a.example/business/rates?utm_source=rss", "Rates & prices")
    assert (first.author, second.author) == (None, "Sam Reyes")
    assert first.published_at == datetime(2026, 11, 20, 6, 30, tzinfo=timezone.utc)
    assert (first.content_html, first.summary) == ("<p>The full story.</p>", "<p>Teaser</p>")
    assert (second.link, second.content_html, second.published_at) == ("https://a.example/guid", None, None)


def test_atom_entries_with_and_without_full_content() -> None:
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
      <entry><title>Full</title><link href="https://a.example/1"/><updated>2026-11-20T07:00:00Z</updated>
        <summary>Short</summary><content type="html">&lt;p&gt;Full text&lt;/p&gt;</content></entry>
      <entry><title>Teaser</title><link href="https://a.example/2"/><summary>Only this</summary></entry>
    </feed>"""
    full, teaser = parse_feed(atom, "https://a.example/atom")
    assert (full.content_html, full.summary) == ("<p>Full text</p>", "Short")
    assert full.published_at == datetime(2026, 11, 20, 7, 0, tzinfo=timezone.utc)
    assert (teaser.content_html, teaser.summary) == (None, "Only this")


def test_broken_feed_with_entries_is_used_and_without_entries_is_an_error() -> None:
    truncated = b"""<rss version="2.0"><channel><item><title>Kept</title><link>https://a.example/k</link></item>
      <item><title>Cut mid-way"""
    assert [item.title for item in parse_feed(truncated, "https://a.example/rss")] == ["Kept"]
    with pytest.raises(SourceError, match=r"https://a.example/rss: not a readable feed: \S+"):
        parse_feed(b"<html><body>Maintenance</body></html", "https://a.example/rss")
    assert parse_feed(b"<rss version='2.0'><channel><title>Quiet day</title></channel></rss>", "u") == []
