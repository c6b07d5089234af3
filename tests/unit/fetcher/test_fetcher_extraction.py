"""Article pages as sites ship them: the story comes out clean, with the metadata a reader checks."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.fetcher.extraction import extract_page
from tests.news_site import BOILERPLATE, STORIES, story_page

RAIL = STORIES["rail-reopens"]
URL = "https://www.daily-example.com/news/rail-reopens?utm_source=rss&utm_medium=feed#comments"


def test_story_text_without_the_page_chrome() -> None:
    page = extract_page(story_page(RAIL), URL)
    assert page is not None
    for paragraph in RAIL.paragraphs:
        assert paragraph in page.text
    for chrome in BOILERPLATE:
        assert chrome not in page.text, chrome
    assert not page.text.startswith(RAIL.title), "the headline belongs in title, not repeated in text"


def test_metadata_of_the_story() -> None:
    page = extract_page(story_page(RAIL).encode(), URL)
    assert page is not None
    assert page.title == RAIL.title
    assert page.author == "Maria Lind"
    assert page.published_at == datetime(2026, 11, 20, 6, 45, tzinfo=timezone.utc)
    assert page.language == "en"


def test_canonical_link_wins_over_og_url_and_loses_tracking() -> None:
    # og:url points at the home page: it must not become every article's id.
    page = extract_page(story_page(RAIL, canonical=f"{URL.split('#')[0]}&fbclid=abc"), URL)
    assert page is not None and page.canonical_url == "https://www.daily-example.com/news/rail-reopens"


def test_relative_canonical_link_is_resolved_against_the_page_url() -> None:
    page = extract_page(story_page(RAIL, canonical="/news/rail-reopens"), "https://WWW.Daily-Example.com/x?id=1")
    assert page is not None and page.canonical_url == "https://www.daily-example.com/news/rail-reopens"


def test_without_canonical_link_the_page_url_is_canonicalised() -> None:
    page = extract_page(story_page(RAIL), "https://WWW.Daily-Example.com/news/rail-reopens?id=7&utm_source=rss#top")
    assert page is not None and page.canonical_url == "https://www.daily-example.com/news/rail-reopens?id=7"
    unlocated = extract_page(story_page(RAIL), None)
    assert unlocated is not None and unlocated.canonical_url is None


def test_a_page_may_canonicalize_to_its_own_site_with_or_without_www() -> None:
    page = extract_page(story_page(RAIL, canonical="https://daily-example.com/news/rail-reopens"), URL)
    assert page is not None and page.canonical_url == "https://daily-example.com/news/rail-reopens"
    bare = extract_page(story_page(RAIL, canonical="https://www.daily-example.com/rail"), "http://daily-example.com/x")
    assert bare is not None and bare.canonical_url == "https://www.daily-example.com/rail"


@pytest.mark.parametrize("claimed", [
    "https://victim.example/news/rail-reopens",
    "https://daily-example.com.evil.example/news/rail-reopens",
    "https://mirror.daily-example.com/news/rail-reopens",
])
def test_a_canonical_link_to_another_host_is_ignored(claimed: str) -> None:
    page = extract_page(story_page(RAIL, canonical=claimed), URL)
    assert page is not None and page.canonical_url == "https://www.daily-example.com/news/rail-reopens"


def test_a_local_file_keeps_its_canonical_link_there_being_no_other_address() -> None:
    page = extract_page(story_page(RAIL, canonical="https://victim.example/news/rail-reopens"), None)
    assert page is not None and page.canonical_url == "https://victim.example/news/rail-reopens"


def test_pages_in_legacy_charsets_keep_their_accents_and_curly_quotes() -> None:
    # Pages labelled latin-1 really are cp1252, as browsers assume: the ’ (byte 0x92) must survive.
    html = story_page(RAIL).replace('<meta charset="utf-8">', '<meta http-equiv="Content-Type" '
                                    'content="text/html; charset=iso-8859-1">').replace("Kellby", "Kélby’s quay")
    page = extract_page(html.encode("cp1252"), URL)
    assert page is not None and "Kélby’s quay" in page.text


def test_a_fresh_story_dated_in_a_time_zone_ahead_of_utc_keeps_its_time() -> None:
    # Kiribati is UTC+14: for most of the UTC day its date is already tomorrow.
    published = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(microsecond=0)
    local = published.astimezone(timezone(timedelta(hours=14))).isoformat()
    page = extract_page(story_page(RAIL).replace(RAIL.published_iso, local), URL)
    assert page is not None and page.published_at == published


def test_pages_without_an_article_give_nothing() -> None:
    assert extract_page("<html><body><nav>Home News Sport</nav><footer>© Example</footer></body></html>", URL) is None
    assert extract_page(b"", URL) is None
    assert extract_page(b"\x89PNG\r\n\x1a\n\x00\x00\x00binary", URL) is None


def test_feed_content_fragments_are_extracted_like_pages() -> None:
    story = " ".join(RAIL.paragraphs)
    for fragment in (f"<p>{story}</p>", story, "".join(f"<p>{paragraph}</p>" for paragraph in RAIL.paragraphs)):
        page = extract_page(fragment, URL)
        assert page is not None and RAIL.paragraphs[-1] in page.text, fragment
