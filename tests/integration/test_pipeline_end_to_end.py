"""The README's promise, end to end: sample files in, signed alerts out, once per (rule, article)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import Counter
from pathlib import Path

from newsmon.stack import Stack
from services.fetcher.files import read_articles
from tests.integration.conftest import WEBHOOK_SECRET, metric, read_topic, replay_cli
from tests.integration.receiver import Received, Receiver
from tests.waiting import wait_until


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """A verifier written from the Standard Webhooks convention alone."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(candidate.removeprefix("v1,"), expected)
        for candidate in headers["webhook-signature"].split()
    )


def article_ids_by_file(sample_dir: Path) -> dict[str, str]:
    return {path.name: read_articles(path)[0].article_id for path in sorted(sample_dir.glob("*.txt"))}


def test_samples_fire_the_expected_alerts_once(
    stack: Stack, cli_env: dict[str, str], receiver: Receiver, sample_dir: Path, expected_rules: dict[str, list[str]]
) -> None:
    ids = article_ids_by_file(sample_dir)
    expected = Counter((ids[name], rule) for name, rules in expected_rules.items() for rule in rules)

    output = replay_cli(cli_env, sample_dir)
    assert "published 3 articles" in output

    # Other tests' subscriptions post to other paths of the same receiver, each with its own secret;
    # NEWSMON_WEBHOOK_URLS is its "/hook".
    def configured_url_requests() -> list[Received]:
        return [request for request in receiver.snapshot() if request.path == "/hook"]

    def delivered() -> Counter[tuple[str, str]]:
        return Counter(
            (request.json["article_id"], request.json["rule_id"])
            for request in configured_url_requests()
            if request.json["article_id"] in ids.values()
        )

    wait_until(lambda: set(delivered()) >= set(expected), 120, f"webhooks for {sorted(expected)}")

    # Replay the same files: the pipeline must process them again and alert nothing new.
    enriched_before = metric(stack, "alerter", "newsmon_messages_in_total", topic="articles.enriched")
    replay_cli(cli_env, sample_dir)
    wait_until(
        lambda: metric(stack, "alerter", "newsmon_messages_in_total", topic="articles.enriched") >= enriched_before + 3,
        120, "the alerter to see the replayed articles",
    )
    assert delivered() == expected, "exactly one webhook per (rule, article), none for 001"

    alerts_on_topic = Counter(
        (alert["article_id"], alert["rule_id"])
        for _, value in read_topic(stack.settings, "alerts")
        if (alert := json.loads(value))["article_id"] in ids.values()
    )
    assert alerts_on_topic == expected

    for request in configured_url_requests():
        assert verify_standard_webhook(WEBHOOK_SECRET, request.headers, request.body)
        assert request.headers["webhook-id"] == request.json["alert_id"]


def test_alert_explains_why_it_fired(
    stack: Stack, cli_env: dict[str, str], receiver: Receiver, sample_dir: Path
) -> None:
    rafah_file = sample_dir / "002_d327a6ada714b97a.txt"
    article_id = read_articles(rafah_file)[0].article_id
    replay_cli(cli_env, rafah_file)
    request = wait_until(
        lambda: next((r for r in receiver.snapshot() if r.path == "/hook" and r.json["article_id"] == article_id),
                     None),
        120, "the rafah alert of 002",
    )
    alert = request.json
    assert alert["rule_id"] == "rafah"
    assert alert["title"] == "US Secretary of State Blinken to travel again to Israel for talks"
    assert alert["story_id"] == article_id
    assert all("Rafah" in sentence["text"] for sentence in alert["sentences"])
    for sentence in alert["sentences"]:  # offsets are into the article text the sentence starts at
        assert all(sentence["text"][start - sentence["start"]:end - sentence["start"]].lower() == "rafah"
                   for start, end in sentence["matches"])
