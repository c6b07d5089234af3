"""Watch rules through the running alerter's API: live at once, kept across a restart, read-only for
the rule file's rules, gone when deleted."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path

from redis.asyncio import Redis

from newsmon.stack import Stack
from services.alerter.rule_engine.rule_store import RuleStore
from services.alerter.rule_engine.rules import validate_rule
from tests.integration.conftest import metric, produce
from tests.integration.receiver import Receiver
from tests.integration.test_alerter_rules import alerts_for, story
from tests.integration.test_notifier_api import call
from tests.waiting import wait_until


def test_a_rule_added_through_the_api_fires_survives_a_restart_and_goes_when_deleted(
    stack: Stack, receiver: Receiver
) -> None:
    rule_id, word = f"api-{uuid.uuid4().hex[:8]}", f"quarrite{uuid.uuid4().hex[:6]}"
    rule = {"name": f"Any {word} mention", "sentence": {"all": [{"any": [word]}]}}
    try:
        status, created = call(stack, "PUT", f"/api/rules/{rule_id}", rule)
        assert status == 201, created
        assert created["source"] == "api" and created["rule"]["id"] == rule_id
        listed = call(stack, "GET", "/api/rules")[1]
        assert {"id": rule_id, "name": rule["name"], "source": "api", "enabled": True} in listed["rules"]
        assert listed["active"] == ["iran-sanctions", "rafah", rule_id]
        assert metric(stack, "alerter", "newsmon_rules_active") == 3

        first = story(f"Miners found {word} in the hills on Monday.")
        produce(stack.settings, "articles.enriched", [first])
        wait_until(lambda: alerts_for(receiver, first) == [rule_id], 60, "the API rule's alert")

        stack.restart("alerter")
        after_restart = story(f"More {word} turned up near Rafah.")
        produce(stack.settings, "articles.enriched", [after_restart])
        wait_until(lambda: alerts_for(receiver, after_restart) == sorted(["rafah", rule_id]), 90,
                   "the API rule to fire after a restart")

        status, replaced = call(stack, "PUT", f"/api/rules/{rule_id}", {**rule, "enabled": False})
        assert status == 200 and replaced["rule"]["enabled"] is False
        assert call(stack, "GET", "/api/rules")[1]["active"] == ["iran-sanctions", "rafah"]
        disabled = story(f"Shelling near Rafah; {word} prices rose.")
        produce(stack.settings, "articles.enriched", [disabled])
        wait_until(lambda: alerts_for(receiver, disabled) == ["rafah"], 60, "only the rafah alert")
    finally:
        call(stack, "DELETE", f"/api/rules/{rule_id}")
    assert call(stack, "GET", f"/api/rules/{rule_id}")[0] == 404
    assert call(stack, "DELETE", f"/api/rules/{rule_id}")[0] == 404
    assert metric(stack, "alerter", "newsmon_rules_active") == 2


def test_the_rule_files_rules_are_read_only_and_bad_rules_get_a_readable_422(stack: Stack) -> None:
    status, shown = call(stack, "GET", "/api/rules/rafah")
    assert status == 200 and shown["source"] == "file" and shown["rule"]["id"] == "rafah"
    assert call(stack, "PUT", "/api/rules/rafah", {"name": "Mine", "sentence": {"all": [{"any": ["x"]}]}})[0] == 409
    assert call(stack, "DELETE", "/api/rules/rafah")[0] == 409

    status, answer = call(stack, "PUT", "/api/rules/broken", {"name": "Broken", "sentence": {"all": [{"any": []}]}})
    assert status == 422
    assert answer["error"].startswith("api: rule 'broken': field sentence.all.0.any: List should have at least 1 item")
    status, answer = call(stack, "PUT", "/api/rules/hooked", {"name": "H", "sentence": {"all": [{"any": ["x"]}]},
                                                              "webhooks": ["http://10.0.0.7/h"]})
    assert status == 422 and answer["error"].startswith("field webhooks:")
    assert call(stack, "PUT", "/api/rules/tokenless", {"name": "T"}, token=None)[0] == 401
    assert call(stack, "GET", "/api/rules/broken")[0] == 404


def test_a_rule_another_instance_just_added_can_be_subscribed_to_at_once(stack: Stack) -> None:
    """Another alerter instance stores the rule in Redis; this one accepts a subscription to it
    right away instead of after its next reload tick."""
    rule_id = f"other-{uuid.uuid4().hex[:8]}"
    document = {"id": rule_id, "name": "Added elsewhere", "sentence": {"all": [{"any": ["elsewhere"]}]}}

    async def store_elsewhere(delete: bool = False) -> None:
        redis = Redis.from_url(stack.settings.redis)
        try:
            store = RuleStore(redis)
            await (store.delete(rule_id) if delete else store.put(validate_rule(document, "test"), document))
        finally:
            await redis.aclose()

    asyncio.run(store_elsewhere())
    try:
        status, created = call(stack, "POST", "/api/subscriptions", {"url": "http://127.0.0.1:9/hook",
                                                                     "rules": [rule_id]})
        assert status == 201, created
        assert call(stack, "DELETE", f"/api/subscriptions/{created['id']}")[0] == 204
    finally:
        asyncio.run(store_elsewhere(delete=True))
    wait_until(lambda: metric(stack, "alerter", "newsmon_rules_active") == 2, 60, "the rule to be gone again")


def test_rules_test_with_api_rules_evaluates_what_the_alerter_runs(
    stack: Stack, cli_env: dict[str, str], tmp_path: Path
) -> None:
    rule_id, word = f"api-{uuid.uuid4().hex[:8]}", f"brellium{uuid.uuid4().hex[:6]}"
    article = tmp_path / "article.txt"
    article.write_text(f"Brellium find\n\nSurveyors reported {word} deposits near Rafah on Tuesday.\n")

    def fired(*options: str) -> set[str]:
        result = subprocess.run([sys.executable, "-m", "newsmon", "rules", "test", "--json", *options, str(article)],
                                env=cli_env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return {json.loads(line)["rule"] for line in result.stdout.splitlines()}

    status, created = call(stack, "PUT", f"/api/rules/{rule_id}",
                           {"name": f"Any {word} mention", "sentence": {"all": [{"any": [word]}]}})
    assert status == 201, created
    try:
        assert fired("--api-rules") == {"rafah", rule_id}
        assert fired() == {"rafah"}, "without --api-rules, the rule file's rules only"
    finally:
        call(stack, "DELETE", f"/api/rules/{rule_id}")
    assert fired("--api-rules") == {"rafah"}
