"""`newsmon fetch --once --dry-run` as a user runs it: bad input is a one-line error or a skip, never a traceback."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from hostile_site import HostileSite, Inside

from tests.news_site import STORIES, NewsSite

# No broker, no Redis: a dry run must not need them. The test site is on loopback, which only
# NEWSMON_FETCH_ALLOW_PRIVATE lets the fetcher read.
ENV = {"PATH": "/usr/bin:/bin", "KAFKA_BOOTSTRAP": "127.0.0.1:1", "REDIS_URL": "redis://127.0.0.1:1/0",
       "NEWSMON_FETCH_PER_HOST_INTERVAL_S": "0", "NEWSMON_FETCH_MAX_RETRIES": "0",
       "NEWSMON_FETCH_ALLOW_PRIVATE": "true"}


async def newsmon(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """Run the CLI without blocking the event loop the test site is served from; (exit code, stdout, stderr)."""
    return await run(tmp_path, "-m", "newsmon", *args, **env)


async def run(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """Python with ``args`` in ``tmp_path``, the test environment plus ``env``; (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, *args, env={**ENV, **env}, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


# Runs its arguments as a child and writes that child's peak RSS (kB) to the file named first. A
# child started straight from pytest would report pytest's own size: Linux carries the peak of
# the memory it was forked from across exec.
MEASURE_PEAK_RSS = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as report:
    report.write(str(usage.ru_maxrss))
sys.exit(child.returncode)
"""


async def newsmon_measured(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str, int]:
    """``newsmon`` as a user runs it: (exit code, stdout, stderr, the newsmon process's peak RSS in kB)."""
    report = tmp_path / "peak-rss-kb"
    code, out, err = await run(tmp_path, "-c", MEASURE_PEAK_RSS, str(report), sys.executable, "-m", "newsmon", *args,
                               **env)
    return code, out, err, int(report.read_text())


async def test_a_hostile_feed_costs_bounded_memory_and_is_skipped_item_by_item(
    hostile_site: HostileSite, bomb_robots_site: HostileSite, tmp_path: Path
) -> None:
    args = ("fetch", "--once", "--dry-run", "--json", "--feed", hostile_site.url("/feed.xml"),
            "--feed", bomb_robots_site.url("/feed.xml"))
    code, out, err, peak_rss_kb = await newsmon_measured(tmp_path, *args, NEWSMON_FETCH_DEADLINE_S="3")

    assert peak_rss_kb < 300 * 1024, f"peak RSS {peak_rss_kb} kB"
    assert "Traceback" not in err
    assert code == 1, "the feed behind a bomb robots.txt cannot be read"
    assert f"1 of 2 sources failed (reasons logged above): {bomb_robots_site.url('/feed.xml')}" in err
    skipped = [line for line in err.splitlines() if "fetch.item_skipped" in line]
    for path, reason in [("/bomb.html", "too_large"), ("/endless", "too_large"), ("/drip", "too_slow")]:
        assert any(f"url={hostile_site.url(path)} reason={reason}" in line for line in skipped), (path, err)
    articles = {article["url"]: article for article in map(json.loads, out.splitlines())}
    assert set(articles) == {hostile_site.url("/elsewhere"), hostile_site.url("/news/quota-protest")}
    assert articles[hostile_site.url("/elsewhere")]["canonical_url"] == hostile_site.url("/elsewhere")


async def test_with_the_guard_on_a_feed_on_loopback_gets_no_request(
    hostile_site: HostileSite, inside: Inside, tmp_path: Path
) -> None:
    code, out, err = await newsmon(tmp_path, "fetch", "--once", "--dry-run", "--feed", hostile_site.url("/feed.xml"),
                                   NEWSMON_FETCH_ALLOW_PRIVATE="false")
    assert (code, out) == (1, "")
    assert "kind=refused_address" in err and "NEWSMON_FETCH_ALLOW_PRIVATE=true" in err
    assert sum(hostile_site.hits.values()) == 0 and inside.connections == 0


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
