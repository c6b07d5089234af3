"""Outsiders read articles.enriched and alerts: with the documented schema and with third-party kcat."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from newsmon.stack import Stack
from services.fetcher.files import read_articles
from tests.integration.conftest import read_topic, replay_cli
from tests.waiting import wait_until


def published_schema(cli_env: dict[str, str], topic: str) -> dict:  # type: ignore[type-arg]
    result = subprocess.run([sys.executable, "-m", "newsmon", "schema", topic], env=cli_env,
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_every_enriched_message_and_alert_matches_the_published_schema(
    stack: Stack, cli_env: dict[str, str], sample_dir: Path
) -> None:
    replay_cli(cli_env, sample_dir)
    ids = {read_articles(path)[0].article_id for path in sample_dir.glob("*.txt")}

    def enriched_samples() -> list[tuple[bytes | None, bytes]] | None:
        messages = read_topic(stack.settings, "articles.enriched")
        return messages if ids <= {key.decode() for key, _ in messages if key} else None

    enriched = wait_until(enriched_samples, 120, "the samples on articles.enriched")
    for topic, messages in (("articles.enriched", enriched), ("alerts", read_topic(stack.settings, "alerts"))):
        schema = published_schema(cli_env, topic)
        assert messages
        for _, value in messages:
            jsonschema.validate(json.loads(value), schema)

    blinken = next(json.loads(v) for k, v in enriched if json.loads(v)["title"].startswith("US Secretary of State"))
    assert blinken["model"]["name"] and blinken["model"]["version"] == "3.8.0"
    for entity in blinken["mentions"]:
        sentence = blinken["sentences"][entity["sentence"]]
        assert sentence["start"] <= entity["start"] < entity["end"] <= sentence["end"]
        assert blinken["text"][entity["start"]:entity["end"]] == entity["text"]


def test_kcat_reads_enriched_articles(stack: Stack, cli_env: dict[str, str], sample_dir: Path) -> None:
    """The command the README documents, exactly: Debian's kcat (librdkafka 2.0) on the embedded broker."""
    replay_cli(cli_env, sample_dir)
    ids = {read_articles(path)[0].article_id for path in sample_dir.glob("*.txt")}

    def kcat_ids() -> set[str] | None:
        result = subprocess.run(
            ["kcat", "-C", "-b", stack.settings.bootstrap, "-t", "articles.enriched", "-e"],
            capture_output=True, text=True, timeout=60,
        )
        found = {json.loads(line)["article_id"] for line in result.stdout.splitlines() if line.strip()}
        return found if ids <= found else None

    wait_until(kcat_ids, 120, "kcat to read the samples from articles.enriched")
