"""Subscriptions through the running notifier's API: created with a token, signed with their own secret,
delivered once each even when the receiver was down, disabled by 410."""

from __future__ import annotations

import base64
import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from newsmon.stack import Stack
from services.fetcher.files import read_articles
from shared.schemas import EnrichedArticle, ModelInfo, Sentence
from shared.settings import ServiceName
from tests.integration.conftest import (
    API_TOKEN,
    WEBHOOK_SECRET,
    metric,
    produce,
    read_json_topic,
    replay_cli,
)
from tests.integration.receiver import Receiver, signature_valid
from tests.local_http import json_call
from tests.waiting import wait_until


def call(stack: Stack, method: str, path: str, body: Any = None, token: str | None = API_TOKEN) -> tuple[int, Any]:
    """One API request as a user's HTTP client makes it: (status, decoded JSON body or None).

    Rules are the alerter's API, everything else (subscriptions, silences) the notifier's.
    """
    service: ServiceName = "alerter" if path.startswith("/api/rules") else "notifier"
    return json_call(stack.url(service, path), method, body, token)


def subscribe(stack: Stack, url: str, rules: list[str] | None = None, secret: str | None = None,
              replay_hours: float | None = None) -> dict[str, Any]:
    body = {"url": url, "rules": rules or [], **({"secret": secret} if secret else {}),
            **({"replay_hours": replay_hours} if replay_hours else {})}
    status, created = call(stack, "POST", "/api/subscriptions", body)
    assert status == 201, created
    return created


def rafah_story(tag: str) -> tuple[bytes, bytes]:
    """An enriched article of a new story that fires the default `rafah` rule (and nothing else)."""
    text = f"Troops moved on Rafah overnight, witnesses said. Story {tag}."
    article = EnrichedArticle(
        article_id=f"api-{tag}", story_id=f"api-{tag}", content_hash=tag, text=text, title=f"Rafah {tag}",
        source="tests", sentences=[Sentence(start=0, end=47), Sentence(start=48, end=len(text))], mentions=[],
        entities=[], model=ModelInfo(name="tests", version="0"),
    )
    return article.article_id.encode(), article.model_dump_json().encode()


def test_the_api_needs_the_bearer_token(stack: Stack) -> None:
    assert call(stack, "GET", "/api/subscriptions", token=None)[0] == 401
    assert call(stack, "GET", "/api/subscriptions", token="wrong")[0] == 401
    status, listed = call(stack, "GET", "/api/subscriptions")
    assert status == 200
    [from_settings] = [entry for entry in listed["subscriptions"] if entry["source"] == "settings"]
    assert from_settings["secret"].startswith("whsec_…") and WEBHOOK_SECRET not in json.dumps(listed)
    status, rules = call(stack, "GET", "/api/rules")
    assert status == 200 and rules["active"] == ["iran-sanctions", "rafah"]


def test_subscriptions_are_created_listed_and_deleted(stack: Stack) -> None:
    created = subscribe(stack, "http://127.0.0.1:9/hook?token=abc", rules=["rafah"])
    assert created["id"].startswith("sub_") and created["secret"].startswith("whsec_")
    assert created["url"] == "http://127.0.0.1:9/hook", "tokens in the URL are never shown"

    listed = call(stack, "GET", "/api/subscriptions")[1]["subscriptions"]
    [shown] = [entry for entry in listed if entry["id"] == created["id"]]
    assert shown["rules"] == ["rafah"] and shown["status"] == "active"
    assert created["secret"] not in json.dumps(listed), "a generated secret is shown once, at creation"

    assert call(stack, "DELETE", f"/api/subscriptions/{created['id']}") == (204, None)
    assert created["id"] not in json.dumps(call(stack, "GET", "/api/subscriptions")[1])
    assert call(stack, "DELETE", f"/api/subscriptions/{created['id']}")[0] == 404
    settings_id = next(entry["id"] for entry in listed if entry["source"] == "settings")
    assert call(stack, "DELETE", f"/api/subscriptions/{settings_id}")[0] == 409


def test_bad_subscriptions_get_a_readable_422(stack: Stack) -> None:
    status, answer = call(stack, "POST", "/api/subscriptions", {"url": "ftp://127.0.0.1/hook"})
    assert status == 422 and "scheme must be http or https" in answer["error"]
    status, answer = call(stack, "POST", "/api/subscriptions", {"url": "http://127.0.0.1/h", "rules": ["nope"]})
    assert status == 422 and "unknown rule id 'nope'" in answer["error"]


def test_a_test_event_arrives_signed_with_the_subscription_secret(stack: Stack) -> None:
    subscriber = Receiver().start()
    try:
        secret = "whsec_" + base64.b64encode(uuid.uuid4().bytes * 2).decode()
        created = subscribe(stack, subscriber.url(), secret=secret)
        assert created["secret"] != secret, "a secret the user chose is not echoed"
        status, queued = call(stack, "POST", f"/api/subscriptions/{created['id']}/test")
        assert status == 202
        [hit] = wait_until(subscriber.snapshot, 60, "the test event")
        assert hit.json["type"] == "newsmon.test" and hit.headers["webhook-id"] == queued["event_id"]
        assert signature_valid(secret, hit.headers, hit.body)
        assert call(stack, "POST", "/api/subscriptions/sub_unknown/test")[0] == 404
    finally:
        subscriber.stop()


def enriched_samples(stack: Stack, cli_env: dict[str, str], sample_dir: Path) -> dict[str, dict[str, Any]]:
    """The samples as the pipeline enriched them (replayed first, in case no test did yet), by file name."""
    ids = {path.name: read_articles(path)[0].article_id for path in sorted(sample_dir.glob("*.txt"))}
    replay_cli(cli_env, sample_dir)

    def found() -> dict[str, dict[str, Any]] | None:
        by_id = {message["article_id"]: message for message in read_json_topic(stack.settings, "articles.enriched")}
        if not set(ids.values()) <= set(by_id):
            return None
        return {name: by_id[article_id] for name, article_id in ids.items()}

    return wait_until(found, 120, "the enriched samples")


def test_a_subscription_receives_signed_alerts_for_the_samples(
    stack: Stack, cli_env: dict[str, str], sample_dir: Path, expected_rules: dict[str, list[str]]
) -> None:
    subscriber = Receiver().start()
    try:
        everything = subscribe(stack, subscriber.url("all"))
        rafah_only = subscribe(stack, subscriber.url("rafah"), rules=["rafah"])
        # New stories with the samples' enriched content: the samples' own alerts may have fired earlier.
        tag = uuid.uuid4().hex[:8]
        copies: dict[str, str] = {}  # copy's article id -> sample file name
        messages = []
        for name, message in enriched_samples(stack, cli_env, sample_dir).items():
            article_id = f"{message['article_id']}-{tag}"
            copies[article_id] = name
            messages.append((article_id.encode(),
                             json.dumps({**message, "article_id": article_id, "story_id": article_id}).encode()))
        produce(stack.settings, "articles.enriched", messages)
        expected = Counter((name, rule) for name, rules in expected_rules.items() for rule in rules)

        def received(path: str) -> Counter[tuple[str, str]]:
            return Counter((copies[hit.json["article_id"]], hit.json["rule_id"])
                           for hit in subscriber.snapshot(path) if hit.json["article_id"] in copies)

        wait_until(lambda: received("all") == expected, 120, lambda: f"{sorted(expected)}, got {received('all')}")
        wait_until(lambda: set(received("rafah")) == {key for key in expected if key[1] == "rafah"}, 60,
                   "the rafah-only subscription's alerts")
        for path, created in (("all", everything), ("rafah", rafah_only)):
            for hit in subscriber.snapshot(path):
                assert signature_valid(created["secret"], hit.headers, hit.body), "signed with its secret"
                assert not signature_valid(WEBHOOK_SECRET, hit.headers, hit.body)
                assert hit.headers["webhook-id"] == hit.json["alert_id"]
        assert received("all") == expected and received("rafah") == Counter(
            {key: 1 for key in expected if key[1] == "rafah"}), "once per subscription"
    finally:
        subscriber.stop()


def test_a_late_subscription_gets_the_samples_alerts_by_replay(
    stack: Stack, cli_env: dict[str, str], sample_dir: Path, expected_rules: dict[str, list[str]]
) -> None:
    """The samples alerted before anyone subscribed; replay_hours still brings each alert, once, signed."""
    names = {message["article_id"]: name for name, message in enriched_samples(stack, cli_env, sample_dir).items()}
    expected = Counter((name, rule) for name, rules in expected_rules.items() for rule in rules)

    def fired() -> set[tuple[str, str]]:
        return {(names[alert["article_id"]], alert["rule_id"]) for alert in read_json_topic(stack.settings, "alerts")
                if alert["article_id"] in names}

    wait_until(lambda: fired() == set(expected), 120, "the samples' alerts on the alerts topic")
    subscriber = Receiver().start()
    try:
        everything = subscribe(stack, subscriber.url("all"), replay_hours=1)
        rafah_only = subscribe(stack, subscriber.url("rafah"), rules=["rafah"], replay_hours=1)
        rafah = Counter({key: count for key, count in expected.items() if key[1] == "rafah"})
        assert everything["replayed"] >= sum(expected.values()) and rafah_only["replayed"] >= sum(rafah.values())

        def received(path: str) -> Counter[tuple[str, str]]:
            return Counter((names[hit.json["article_id"]], hit.json["rule_id"])
                           for hit in subscriber.snapshot(path) if hit.json["article_id"] in names)

        wait_until(lambda: received("all") == expected, 60, lambda: f"{sorted(expected)}, got {received('all')}")
        wait_until(lambda: received("rafah") == rafah, 60, "the rafah-only subscription's replayed alerts")
        wait_until(lambda: len(subscriber.snapshot()) == everything["replayed"] + rafah_only["replayed"], 60,
                   "every replayed alert")
        for path, created in (("all", everything), ("rafah", rafah_only)):
            hits = subscriber.snapshot(path)
            assert all(signature_valid(created["secret"], hit.headers, hit.body) for hit in hits)
            assert len({hit.headers["webhook-id"] for hit in hits}) == len(hits), "each alert once"
        assert {hit.json["rule_id"] for hit in subscriber.snapshot("rafah")} == {"rafah"}
    finally:
        subscriber.stop()


def test_a_receiver_down_then_back_gets_every_alert_once_per_subscription(stack: Stack) -> None:
    subscriber = Receiver()  # not listening yet: connections are refused
    first, second = subscribe(stack, subscriber.url("first")), subscribe(stack, subscriber.url("second"))
    retries = metric(stack, "notifier", "newsmon_webhook_deliveries_total", outcome="retry")
    tag = uuid.uuid4().hex[:8]
    stories = [rafah_story(f"{tag}-{n}") for n in range(3)]
    produce(stack.settings, "articles.enriched", stories)
    wait_until(lambda: metric(stack, "notifier", "newsmon_webhook_deliveries_total", outcome="retry") >= retries + 12,
               60, "every delivery to fail twice while the receiver is down")
    subscriber.start()
    try:
        story_ids = sorted(key.decode() for key, _ in stories)

        def delivered(path: str) -> list[str]:
            return sorted(hit.json["story_id"] for hit in subscriber.snapshot(path))

        wait_until(lambda: delivered("first") == story_ids and delivered("second") == story_ids, 60,
                   lambda: f"3 alerts on each subscription, got {delivered('first')} and {delivered('second')}")
        for path, created in (("first", first), ("second", second)):
            assert all(signature_valid(created["secret"], hit.headers, hit.body) for hit in subscriber.snapshot(path))
    finally:
        subscriber.stop()


def test_410_disables_the_subscription(stack: Stack, receiver: Receiver) -> None:
    subscriber = Receiver(status=410).start()
    try:
        created = subscribe(stack, subscriber.url())
        first, later = rafah_story(uuid.uuid4().hex[:8]), rafah_story(uuid.uuid4().hex[:8])
        produce(stack.settings, "articles.enriched", [first])
        wait_until(subscriber.snapshot, 60, "the first alert to reach the 410 receiver")

        def shown() -> dict[str, Any]:
            listed = call(stack, "GET", "/api/subscriptions")[1]["subscriptions"]
            return next(entry for entry in listed if entry["id"] == created["id"])

        wait_until(lambda: shown()["status"] == "disabled", 60, "the subscription to be disabled")
        assert "410" in shown()["disabled_reason"]
        produce(stack.settings, "articles.enriched", [later])
        wait_until(lambda: any(hit.json["article_id"] == later[0].decode() for hit in receiver.snapshot()), 30,
                   "the later alert to reach the settings receiver (queued with every target at once)")
        assert len(subscriber.snapshot()) == 1, "nothing more for a disabled subscription"
        assert call(stack, "POST", f"/api/subscriptions/{created['id']}/test")[0] == 409
    finally:
        subscriber.stop()
