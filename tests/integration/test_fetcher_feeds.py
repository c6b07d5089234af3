"""The fetcher polls a real local feed: clean articles, published once however often it polls."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from newsmon.stack import Stack
from tests.integration.conftest import metric, read_json_topic
from tests.news_site import BOILERPLATE, STORIES, NewsSite, published_at
from tests.waiting import wait_until


def test_feed_items_are_published_once_with_clean_text(stack: Stack, news_site: NewsSite) -> None:
    feed_url = news_site.rss_url
    # Later polls are conditional GETs answered 304: the site is polled, nothing is re-sent.
    wait_until(lambda: metric(stack, "fetcher", "newsmon_fetches_total", outcome="not_modified") >= 3, 60,
               "three conditional polls answered 304")
    from_feed = [article for article in read_json_topic(stack.settings, "articles.raw")
                 if article.get("source") == feed_url]
    stories = {story.title: story for story in STORIES.values()}
    assert Counter(article["title"] for article in from_feed) == Counter(list(stories))
    for article in from_feed:
        story = stories[article["title"]]
        assert "utm_source" not in article["canonical_url"]
        assert all(paragraph in article["text"] for paragraph in story.paragraphs)
        assert not any(chrome in article["text"] for chrome in BOILERPLATE)
        assert datetime.fromisoformat(article["published_at"]) == published_at(story)
