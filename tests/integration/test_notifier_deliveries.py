"""`newsmon deliveries list|replay` against the running stack: a delivery given up on is listed, and
replayed to its subscription once the receiver is fixed."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

from newsmon.stack import Stack
from tests.integration.conftest import produce
from tests.integration.receiver import Receiver, signature_valid
from tests.integration.test_notifier_api import rafah_story, subscribe
from tests.waiting import wait_until


def deliveries(cli_env: dict[str, str], command: str, *args: str) -> str:
    """Run ``newsmon deliveries <command>`` like a user would and return its output."""
    result = subprocess.run([sys.executable, "-m", "newsmon", "deliveries", command, *args], env=cli_env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_failed_delivery_is_listed_then_replayed_once_the_receiver_is_fixed(
    stack: Stack, cli_env: dict[str, str]
) -> None:
    subscriber = Receiver(status=400).start()
    try:
        created = subscribe(stack, subscriber.url(f"hook-{uuid.uuid4().hex[:6]}?token=t0ken"), rules=["rafah"])
        article = rafah_story(uuid.uuid4().hex[:8])
        produce(stack.settings, "articles.enriched", [article])
        [refused] = wait_until(subscriber.snapshot, 60, "the first attempt (answered 400)")
        alert_id = refused.headers["webhook-id"]

        def listed() -> list[dict[str, object]]:
            return [record for line in deliveries(cli_env, "list", "--json").splitlines()
                    if (record := json.loads(line))["alert_id"] == alert_id]

        [record] = wait_until(listed, 60, "the failure in `deliveries list`")
        assert record["outcome"] == "failed" and record["last_error"] == "HTTP 400"
        assert record["subscription_id"] == created["id"] and "t0ken" not in json.dumps(record)
        assert "failed deliveries" in deliveries(cli_env, "list")

        subscriber.status = 200
        output = deliveries(cli_env, "replay")
        assert output.startswith("re-queued ") and int(output.split()[1]) >= 1, output
        wait_until(lambda: len(subscriber.snapshot()) == 2, 60, "the replayed delivery")
        replayed = subscriber.snapshot()[1]
        assert replayed.headers["webhook-id"] == alert_id and replayed.json["article_id"] == article[0].decode()
        assert signature_valid(created["secret"], replayed.headers, replayed.body)
        assert listed() == [], "a replayed delivery leaves the failed list"
    finally:
        subscriber.stop()
