"""`newsmon fetch --once` and a fetcher restart: clean text out, nothing published twice."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

from newsmon.stack import Stack
from shared.article_ids import article_id_for_content
from tests.integration.conftest import metric, read_json_topic
from tests.news_site import BOILERPLATE, STORIES, NewsSite, published_at
from tests.waiting import wait_until


def newsmon(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsmon", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_dry_run_prints_clean_articles_without_broker(news_site: NewsSite) -> None:
    env = {"KAFKA_BOOTSTRAP": "127.0.0.1:1", "REDIS_URL": "redis://127.0.0.1:1/0", "PATH": "/usr/bin:/bin",
           "NEWSMON_FETCH_ALLOW_PRIVATE": "true"}
    result = newsmon(env, "fetch", "--once", "--feed", news_site.rss_url, "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    articles = [json.loads(line) for line in result.stdout.splitlines()]
    stories = {story.title: story for story in STORIES.values()}
    assert sorted(article["title"] for article in articles) == sorted(stories)
    for article in articles:
        story = stories[article["title"]]
        assert set(article) == {"url", "canonical_url", "title", "text", "published_at", "source", "language",
                                "author"}
        assert datetime.fromisoformat(article["published_at"]) == published_at(story)
        assert "utm_source" not in article["canonical_url"]
        assert not any(chrome in article["text"] for chrome in BOILERPLATE)
        assert all(paragraph in article["text"] for paragraph in story.paragraphs)


def test_restarted_fetcher_and_a_manual_run_publish_nothing_twice(
    stack: Stack, news_site: NewsSite, cli_env: dict[str, str]
) -> None:
    feed_url = news_site.rss_url

    def titles_on_raw() -> Counter[str]:
        return Counter(article["title"] for article in read_json_topic(stack.settings, "articles.raw")
                       if article.get("source") == feed_url)

    wait_until(lambda: len(titles_on_raw()) == len(STORIES), 60, "the feed's articles on articles.raw")
    stack.restart("fetcher")
    wait_until(lambda: metric(stack, "fetcher", "newsmon_source_last_success_timestamp_seconds", source=feed_url)
               and metric(stack, "fetcher", "newsmon_fetches_total", outcome="not_modified") >= 3,
               60, "the restarted fetcher to poll the feed again")
    manual = newsmon(cli_env, "fetch", "--once", "--feed", feed_url)
    assert manual.returncode == 0, manual.stderr
    assert "published 0 new articles" in manual.stdout
    assert titles_on_raw() == Counter({story.title: 1 for story in STORIES.values()})


def test_invalid_sources_file_names_file_source_and_field(tmp_path, cli_env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n  - name: wire\n    kind: feed\n    url: ftp://example.com/feed\n")
    result = newsmon({**cli_env, "NEWSMON_SOURCES_PATH": str(sources)}, "fetch", "--once", "--dry-run")
    assert result.returncode == 2
    assert f"{sources}: source 'wire': field <source>: url must start with http:// or https://" in result.stderr


def test_replay_skips_a_bad_file_with_its_reason_and_publishes_the_others(
    tmp_path: Path, stack: Stack, cli_env: dict[str, str]
) -> None:
    texts = {name: f"Replay check {name} {tmp_path.name}\n\nThe council met on Monday about {name}."
             for name in ("a.txt", "c.txt")}
    for name, text in texts.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "b.jsonl").write_text('{"text": "fine"}\n{broken\n')

    result = newsmon(cli_env, "replay", str(tmp_path))

    assert result.returncode == 1
    assert f"skipped {tmp_path / 'b.jsonl'}:2: not JSON" in result.stderr
    assert "Traceback" not in result.stderr
    assert "published 2 articles" in result.stdout, "a.txt before the bad file and c.txt after it"
    ids = {article["article_id"] for article in read_json_topic(stack.settings, "articles.raw")}
    assert {article_id_for_content(text) for text in texts.values()} <= ids
