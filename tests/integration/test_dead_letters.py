"""`newsmon dead-letters list|replay` on the session stack, as an operator uses them.

A stage fails on a message for a cause that can be fixed (a corrupt key in Redis makes the
alerter, or dedupe, raise WRONGTYPE: a processing error, not a bad message); the operator lists
the dead letter, fixes the cause, replays it, and the message is processed once. Replaying again
sends nothing, and a replayed article that had already passed changes nothing downstream.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from newsmon.commands.dead_letter_replay import MemoryReplayLedger, RedisReplayLedger
from newsmon.stack import Stack
from services.alerter.alert_log import KEY_PREFIX as ALERT_STATE_PREFIX
from services.dedupe.redis_story_store import KEY_PREFIX as DEDUPE_PREFIX
from shared.article_ids import alert_id
from shared.redis_client import connect
from shared.schemas import DeadLetter
from tests.integration.conftest import produce, read_topic
from tests.integration.receiver import Receiver
from tests.integration.test_bad_input_and_duplicates import RAFAH_TEXT, raw
from tests.integration.test_notifier_api import rafah_story
from tests.waiting import wait_until


def dead_letters(cli_env: dict[str, str], command: str, *options: str) -> str:
    """Run ``newsmon dead-letters COMMAND`` like an operator and return what it printed."""
    result = subprocess.run([sys.executable, "-m", "newsmon", "dead-letters", command, *options], env=cli_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def listed(cli_env: dict[str, str], key: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in dead_letters(cli_env, "list", "--json", "--key", key).splitlines()]


def copies(stack: Stack, topic: str, key: bytes) -> list[bytes]:
    """The values on ``topic`` under ``key``."""
    return [value for found, value in read_topic(stack.settings, topic) if found == key]


@pytest.fixture()
def redis_client(stack: Stack) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(stack.settings.redis)
    yield client
    client.close()


def corrupt(client: redis.Redis, key: str) -> None:
    """A list where the stage keeps a string: its next read fails with WRONGTYPE until the key is fixed."""
    client.delete(key)
    client.rpush(key, "corrupt")


def delivered(receiver: Receiver, alert: str) -> list[str]:
    return [hit.headers["webhook-id"] for hit in receiver.snapshot() if hit.headers.get("webhook-id") == alert]


def test_a_fixed_alerter_failure_is_listed_replayed_once_and_processed_once(
    stack: Stack, receiver: Receiver, cli_env: dict[str, str], redis_client: redis.Redis,
) -> None:
    key, value = rafah_story(f"dead-letter-{uuid.uuid4().hex[:8]}")
    article_id = key.decode()
    alert = alert_id("rafah", article_id)  # the story id of this article is its own id
    corrupt(redis_client, f"{ALERT_STATE_PREFIX}:{alert}")
    produce(stack.settings, "articles.enriched", [(key, value)])

    [letter] = wait_until(lambda: listed(cli_env, article_id), 60, "the alerter's dead letter")
    assert (letter["service"], letter["kind"], letter["input_topic"]) == ("alerter", "processing_error",
                                                                           "articles.enriched")
    assert "WRONGTYPE" in letter["reason"] and letter["payload_bytes"] == len(value)
    assert letter["replayable"] and letter["replayed"] is False
    assert delivered(receiver, alert) == []

    redis_client.delete(f"{ALERT_STATE_PREFIX}:{alert}")  # the cause, fixed
    replayed = dead_letters(cli_env, "replay", "--service", "alerter", "--key", article_id)
    assert f"replayed  {letter['dead_letter']}  key {article_id} -> articles.enriched" in replayed
    assert "replayed 1 dead letters; 0 already replayed, 0 not replayable" in replayed
    wait_until(lambda: delivered(receiver, alert), 60, "the alert of the replayed article at the receiver")
    assert copies(stack, "articles.enriched", key) == [value, value], "the original key and payload, sent once"

    again = dead_letters(cli_env, "replay", "--service", "alerter", "--key", article_id)
    assert f"skipped   {letter['dead_letter']}  key {article_id}: already replayed" in again
    assert "replayed 0 dead letters; 1 already replayed" in again
    assert len(copies(stack, "articles.enriched", key)) == 2, "a second replay sends nothing"
    assert [entry["replayed"] for entry in listed(cli_env, article_id)] == [True]
    assert "1 replayed" in dead_letters(cli_env, "list", "--key", article_id)
    alerts = [json.loads(value)["alert_id"] for value in copies(stack, "alerts", alert.encode())]
    assert alerts == [alert] and delivered(receiver, alert) == [alert]


def test_replaying_an_article_that_already_passed_changes_nothing_downstream(
    stack: Stack, receiver: Receiver, cli_env: dict[str, str], redis_client: redis.Redis,
) -> None:
    tag = uuid.uuid4().hex
    key, value = raw(f"https://example.org/dead-letters/{tag}", RAFAH_TEXT.format(day="Friday", tag=tag))
    article_id = key.decode()
    alert = alert_id("rafah", article_id)
    corrupt(redis_client, f"{DEDUPE_PREFIX}:verdict:{article_id}")
    produce(stack.settings, "articles.raw", [(key, value)])
    [letter] = wait_until(lambda: listed(cli_env, article_id), 60, "dedupe's dead letter")
    assert letter["service"] == "dedupe" and "WRONGTYPE" in letter["reason"] and letter["replayable"]

    # The cause is fixed and the source sends the article again before anyone replays the dead letter.
    redis_client.delete(f"{DEDUPE_PREFIX}:verdict:{article_id}")
    produce(stack.settings, "articles.raw", [(key, value)])
    wait_until(lambda: delivered(receiver, alert), 120, "the alert of the re-sent article")

    assert "replayed 1 dead letters" in dead_letters(cli_env, "replay", "--service", "dedupe", "--key", article_id)
    log = stack.log_dir / "alerter.log"
    wait_until(lambda: any('"alert.already_sent"' in line and alert in line for line in log.read_text().splitlines()),
               120, "the alerter to see the replayed article and find its alert already sent")

    stories = {json.loads(unique)["story_id"] for unique in copies(stack, "articles.unique", key)}
    assert len(copies(stack, "articles.unique", key)) == 2 and stories == {article_id}, "the same verdict"
    assert copies(stack, "articles.duplicates", key) == [], "never a duplicate of itself"
    assert len(copies(stack, "alerts", alert.encode())) == 1, "one alert per (rule, story)"
    assert delivered(receiver, alert) == [alert], "one delivery per (alert, target)"


def test_what_cannot_be_replayed_is_listed_with_the_reason_and_never_sent(
    stack: Stack, cli_env: dict[str, str],
) -> None:
    junk_key = f"junk-{uuid.uuid4().hex}"
    produce(stack.settings, "articles.raw", [(junk_key.encode(), b"{not json")])
    # What a stage writes when the original was larger than the broker takes: the start, its size and hash.
    truncated_key = f"huge-{uuid.uuid4().hex}"
    truncated = DeadLetter(service="ner", topic="articles.unique", reason="output_too_large: 2000000 bytes",
                           key=truncated_key, payload='{"schema_version": 1, "article_id": "huge", "te',
                           payload_bytes=2_000_000, payload_sha256="0" * 64, payload_truncated=True)
    produce(stack.settings, "dead-letter.ner", [(truncated_key.encode(), truncated.model_dump_json().encode())])

    [junk] = wait_until(lambda: listed(cli_env, junk_key), 60, "dedupe's dead letter of the junk")
    assert junk["kind"] == "invalid_json" and not junk["replayable"]
    text = dead_letters(cli_env, "list", "--service", "ner", "--key", truncated_key)
    assert "2,000,000 B  not replayable" in text
    kept = len(truncated.payload)
    assert f"    not replayable: payload truncated: only the first {kept} of 2000000 bytes were kept" in text

    for key, service in ((junk_key, "dedupe"), (truncated_key, "ner")):
        output = dead_letters(cli_env, "replay", "--service", service, "--key", key)
        assert f"key {key}: not replayable: " in output and "replayed 0 dead letters" in output
    assert copies(stack, "articles.raw", junk_key.encode()) == [b"{not json"], "nothing sent again"
    assert copies(stack, "articles.unique", truncated_key.encode()) == []


async def test_the_redis_ledger_answers_like_its_in_memory_twin(stack: Stack) -> None:
    client = connect(stack.settings)
    letter_id = f"dead-letter.alerter:0:0:{uuid.uuid4().hex[:16]}"
    try:
        for ledger in (RedisReplayLedger(client), MemoryReplayLedger()):
            answers = [await ledger.claim(letter_id), await ledger.claim(letter_id)]
            await ledger.release(letter_id)
            answers += [await ledger.claim(letter_id), letter_id in await ledger.replayed([letter_id])]
            await ledger.confirm(letter_id)
            answers += [await ledger.claim(letter_id), letter_id in await ledger.replayed([letter_id])]
            assert answers == [True, False, True, False, False, True], type(ledger).__name__
    finally:
        await client.aclose()
