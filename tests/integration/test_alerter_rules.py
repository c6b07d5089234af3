"""Rules in the running alerter: a broken edit keeps the previous rules, a good one is live within
seconds with its cooldown; one alert per (rule, story) in Redis; backtests on articles.enriched."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from newsmon.commands.rules_backtest import backtest_from_topic
from newsmon.stack import Stack
from services.alerter.alert_log import AlertLog, MemoryAlertLog, RedisAlertLog
from services.alerter.rule_engine.matching import compile_rules
from services.alerter.rule_engine.rules import default_rules_text, load_rules
from services.fetcher.files import read_articles
from shared.kafka_clients import TopicReadError, read_last
from shared.schemas import EnrichedArticle, ModelInfo, Sentence
from tests.integration.conftest import metric, produce, read_json_topic, reloads, replay_cli
from tests.integration.receiver import Receiver
from tests.waiting import wait_until


def story(text: str) -> tuple[bytes, bytes]:
    """An enriched one-sentence article of a new story."""
    tag = uuid.uuid4().hex[:12]
    article = EnrichedArticle(article_id=f"rules-{tag}", story_id=f"rules-{tag}", content_hash=tag, text=text,
                              title=text[:40], source="tests", sentences=[Sentence(start=0, end=len(text))],
                              mentions=[], entities=[], model=ModelInfo(name="tests", version="0"))
    return article.article_id.encode(), article.model_dump_json().encode()


def alerts_for(receiver: Receiver, article: tuple[bytes, bytes]) -> list[str]:
    return sorted(hit.json["rule_id"] for hit in receiver.snapshot() if hit.json["article_id"] == article[0].decode())


def test_a_broken_rule_file_is_reported_and_the_previous_rules_stay_active(
    stack: Stack, receiver: Receiver, rules_file: Path
) -> None:
    errors = reloads(stack, "error")
    rules_file.write_text("rules:\n  - id: rafah\n    name: Rafah\n    sentence: {all: [{any: []}]}\n")
    wait_until(lambda: reloads(stack, "error") > errors, 60, "the alerter to try the broken file")

    logged = [json.loads(line) for line in (stack.log_dir / "alerter.log").read_text().splitlines()
              if '"rules.reload_failed"' in line]
    assert f"{rules_file}: rule 'rafah': field sentence.all.0.any: List should have at least 1 item" in (
        logged[-1]["error"])
    assert metric(stack, "alerter", "newsmon_rules_active") == 2

    article = story("Shelling resumed near Rafah on Friday.")
    produce(stack.settings, "articles.enriched", [article])
    wait_until(lambda: alerts_for(receiver, article) == ["rafah"], 60, "the rafah alert under the previous rules")


def test_an_edited_rule_is_live_without_restart_and_its_cooldown_holds_back_later_stories(
    stack: Stack, receiver: Receiver, rules_file: Path
) -> None:
    rule_id, word = f"watch-{uuid.uuid4().hex[:8]}", f"zorbanite{uuid.uuid4().hex[:6]}"
    done = reloads(stack, "ok")
    rules_file.write_text(default_rules_text() + (
        f"\n  - id: {rule_id}\n    name: Watched word\n    cooldown: 1h\n"
        f"    sentence: {{any: [{{term: {word}, case: insensitive}}]}}\n"))
    wait_until(lambda: reloads(stack, "ok") > done, 60, "the edited rule file to be active")
    assert metric(stack, "alerter", "newsmon_rules_active") == 3

    first = story(f"Traders report {word} shortages.")
    produce(stack.settings, "articles.enriched", [first])
    wait_until(lambda: alerts_for(receiver, first) == [rule_id], 60, "the new rule's first alert")

    later = story(f"More {word} found near Rafah.")
    produce(stack.settings, "articles.enriched", [later])
    wait_until(lambda: alerts_for(receiver, later) == ["rafah"], 60, "the later story's rafah alert")
    wait_until(lambda: metric(stack, "alerter", "newsmon_alerts_suppressed_total", rule=rule_id) == 1, 30,
               "the watched word's second alert to be held back")
    assert alerts_for(receiver, later) == ["rafah"], "the cooldown held back the watched word's second alert"


async def one_alert_and_the_cooldown(log: AlertLog) -> None:
    """What the firing sequence relies on, asked of one alert log."""
    alert, other = f"alert-{uuid.uuid4().hex}", f"alert-{uuid.uuid4().hex}"
    assert await log.needs_publishing(alert)
    assert await log.needs_publishing(alert), "pending (crashed before publishing): publish again"
    await log.mark_published(alert)
    assert not await log.needs_publishing(alert)

    rule = f"rule-{uuid.uuid4().hex}"
    assert await log.claim_cooldown(rule, alert, 0.5)
    assert await log.claim_cooldown(rule, alert, 0.5), "the alert holding the cooldown may retry"
    assert not await log.claim_cooldown(rule, other, 0.5)
    await log.mark_suppressed(other)
    assert not await log.needs_publishing(other), "a suppressed alert is never sent late"
    await asyncio.sleep(0.6)  # the cooldown's own expiry is what is under test
    assert await log.claim_cooldown(rule, f"alert-{uuid.uuid4().hex}", 0.5)


def test_the_alert_log_in_redis_and_its_in_memory_twin_answer_alike(stack: Stack) -> None:
    async def check() -> None:
        redis = Redis.from_url(stack.settings.redis)
        try:
            await one_alert_and_the_cooldown(RedisAlertLog(redis, 60))
        finally:
            await redis.aclose()
        await one_alert_and_the_cooldown(MemoryAlertLog())

    asyncio.run(check())


def test_backtest_on_the_enriched_topic_fires_what_the_alerter_fires(
    stack: Stack, cli_env: dict[str, str], sample_dir: Path, expected_rules: dict[str, list[str]]
) -> None:
    ids = {read_articles(path)[0].article_id: path.name for path in sorted(sample_dir.glob("*.txt"))}
    replay_cli(cli_env, sample_dir)

    wait_until(lambda: set(ids) <= {m["article_id"] for m in read_json_topic(stack.settings, "articles.enriched")},
               120, "the samples on articles.enriched")

    fired: dict[str, set[str]] = {name: set() for name in ids.values()}
    for hit in backtest_from_topic(stack.settings, "articles.enriched", 10_000, compile_rules(load_rules(None))):
        if hit.article.article_id in ids:
            fired[ids[hit.article.article_id]].add(hit.match.rule.id)
    assert {name: sorted(rules) for name, rules in fired.items()} == {
        name: sorted(rules) for name, rules in expected_rules.items()}

    command = [sys.executable, "-m", "newsmon", "rules", "test", "--from-topic", "articles.enriched", "--last",
               "10000", "--json"]
    result = subprocess.run(command, env=cli_env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    printed = {(ids[hit["article_id"]], hit["rule"]) for line in result.stdout.splitlines()
               if (hit := json.loads(line))["article_id"] in ids}
    assert printed == {(name, rule) for name, rules in expected_rules.items() for rule in rules}


def test_backtest_reads_only_the_last_messages_of_each_partition(stack: Stack) -> None:
    produce(stack.settings, "articles.enriched", [story("A message, so the topic is not empty.")])
    partitions = stack.settings.topic_partitions
    records = asyncio.run(read_last(stack.settings, "articles.enriched", 1))
    assert 1 <= len(records) <= partitions
    assert len({record.partition for record in records}) == len(records)


def test_backtest_names_what_is_wrong(stack: Stack, cli_env: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(TopicReadError, match="topic 'articles.nope' does not exist"):
        list(backtest_from_topic(stack.settings, "articles.nope", 5, compile_rules(load_rules(None))))
    broken = tmp_path / "watch.yaml"
    broken.write_text("rules:\n  - id: x\n    name: X\n")
    result = subprocess.run([sys.executable, "-m", "newsmon", "rules", "test", "--rules", str(broken),
                             "--from-topic", "articles.enriched"], env=cli_env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert f"{broken}: rule 'x': field sentence: Field required" in result.stderr
