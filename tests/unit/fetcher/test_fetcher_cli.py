"""`newsmon fetch --once --dry-run` as a user runs it: bad input is a one-line error or a skip, never a traceback."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from fetcher_news_site import STORIES, NewsSite

# No broker, no Redis: a dry run must not need them.
ENV = {"PATH": "/usr/bin:/bin", "KAFKA_BOOTSTRAP": "127.0.0.1:1", "REDIS_URL": "redis://127.0.0.1:1/0",
       "NEWSMON_FETCH_PER_HOST_INTERVAL_S": "0", "NEWSMON_FETCH_MAX_RETRIES": "0"}


async def newsmon(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """Run the CLI without blocking the event loop the test site is served from; (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "newsmon", *args, env={**ENV, **env}, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_bad_links_in_one_feed_cost_only_those_items(news_site: NewsSite, tmp_path: Path) -> None:
    code, out, err = await newsmon(tmp_path, "fetch", "--once", "--dry-run", "--json",
                                   "--feed", news_site.bad_links_url, "--feed", news_site.rss_url)
    assert code == 0, err
    assert "Traceback" not in err
    articles = [json.loads(line) for line in out.splitlines()]
    assert [article["title"] for article in articles] == [
        "Good story, bad canonical", *(story.title for story in STORIES.values())]
    assert articles[0]["canonical_url"] == f"{news_site.base}/bad-canonical/quota-protest"
    assert "http://[bad/x" in err and "reason=bad_url" in err


async def test_a_failing_source_does_not_stop_the_others_but_sets_the_exit_status(
    news_site: NewsSite, tmp_path: Path
) -> None:
    missing = f"{news_site.base}/missing.xml"
    code, out, err = await newsmon(tmp_path, "fetch", "--once", "--dry-run", "--json",
                                   "--feed", missing, "--feed", news_site.rss_url)
    assert code == 1
    assert len(out.splitlines()) == len(STORIES)
    assert f"1 of 2 sources failed (reasons logged above): {missing}" in err


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--feed", "ftp://a.example/rss"], {},
     "error: --feed: url must start with http:// or https://, got 'ftp://a.example/rss'"),
    ([], {"NEWSMON_FEEDS": '["ftp://a.example/rss"]'},
     "error: NEWSMON_FEEDS: url must start with http:// or https://, got 'ftp://a.example/rss'"),
    ([], {"NEWSMON_FEEDS": "https://a.example/rss"},
     "error: NEWSMON_FEEDS: cannot parse the value; lists are written as JSON, e.g. '[\"https://example.com/rss\"]'"),
    ([], {"NEWSMON_FEED_POLL_S": "-5"}, "error: NEWSMON_FEED_POLL_S: Input should be greater than 0"),
])
async def test_bad_feed_settings_are_one_line_errors_naming_the_setting(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    code, out, err = await newsmon(tmp_path, "fetch", "--once", "--dry-run", *args, **env)
    assert (code, out, err.strip()) == (2, "", message)


@pytest.mark.parametrize("command", [["replay", "nothing.txt"], ["status"], ["rules", "test", "nothing.txt"]])
async def test_every_command_names_a_bad_setting_in_one_line(tmp_path: Path, command: list[str]) -> None:
    code, out, err = await newsmon(tmp_path, *command, NEWSMON_FEEDS="https://a.example/rss")
    assert (code, out, err.strip()) == (
        2, "", "error: NEWSMON_FEEDS: cannot parse the value; lists are written as JSON, e.g. '[\"https://example.com/rss\"]'")


async def test_a_setting_under_its_old_name_still_works_with_a_warning(news_site: NewsSite, tmp_path: Path) -> None:
    code, out, err = await newsmon(tmp_path, "fetch", "--once", "--dry-run", "--json", "--feed", news_site.rss_url,
                                   NEWSMON_FEED_POLL_SECONDS="60")
    assert code == 0 and len(out.splitlines()) == len(STORIES)
    assert err.splitlines()[0] == ("warning: NEWSMON_FEED_POLL_SECONDS is now NEWSMON_FEED_POLL_S; "
                                   "the old name stops working in the next release")
