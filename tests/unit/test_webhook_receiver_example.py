"""The webhook receiver example verifies what newsmon's real signer sends, and nothing else."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO

import pytest

from services.notifier.api import trial_event_body
from services.notifier.channels.notice import AlertNotice, DigestNotice
from services.notifier.digests import standard_digest_body
from services.notifier.notice_bodies import notice_body
from services.notifier.webhooks.signing import signed_headers
from services.notifier.webhooks.subscriptions import new_secret
from shared.article_ids import alert_id
from shared.schemas import Alert, MatchedSentence

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "webhook_receiver.py"
TIMEOUT_S = 10


@dataclass
class Receiver:
    url: str
    secret: str
    stdout: queue.Queue[str]
    stderr: queue.Queue[str]

    def post(self, body: bytes, headers: dict[str, str]) -> int:
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code


def next_line(lines: queue.Queue[str]) -> str:
    """The next line the receiver printed; fails instead of hanging when it prints nothing."""
    try:
        return lines.get(timeout=TIMEOUT_S)
    except queue.Empty:
        pytest.fail(f"the receiver printed nothing within {TIMEOUT_S}s")


def pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    secret = new_secret()
    with subprocess.Popen([sys.executable, str(EXAMPLE), "--secret", secret, "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        yield from _serving(process, secret)


def _serving(process: subprocess.Popen[str], secret: str) -> Iterator[Receiver]:
    try:
        stdout: queue.Queue[str] = queue.Queue()
        stderr: queue.Queue[str] = queue.Queue()
        for stream, lines in ((process.stdout, stdout), (process.stderr, stderr)):
            assert stream is not None
            threading.Thread(target=pump, args=(stream, lines), daemon=True).start()
        listening = next_line(stdout)
        assert listening.startswith("listening on http://127.0.0.1:"), listening
        yield Receiver(listening.removeprefix("listening on ") + "/hook", secret, stdout, stderr)
    finally:
        process.terminate()
        process.wait(timeout=TIMEOUT_S)


def rafah_alert() -> Alert:
    text = "Troops moved on Rafah, Israel said."
    return Alert(alert_id=alert_id("rafah", "story-1"), rule_id="rafah", rule_name="Any Rafah mention",
                 article_id="copy-1", story_id="story-1", url="https://example.org/copy-1",
                 title="Troops move on Rafah", source="wire",
                 sentences=[MatchedSentence(text=text, start=0, end=len(text), matches=[(16, 21)])],
                 fired_at=datetime(2026, 1, 5, 12, 0, 2, tzinfo=timezone.utc))


def test_a_signed_alert_is_verified_once_and_its_retry_is_a_duplicate(receiver: Receiver) -> None:
    alert = rafah_alert()
    body = alert.model_dump_json().encode()
    headers = signed_headers(receiver.secret, alert.alert_id, body)
    assert receiver.post(body, headers) == 204
    assert next_line(receiver.stdout) == f"VERIFIED rafah {alert.alert_id} Troops move on Rafah"
    assert receiver.post(body, headers) == 204
    assert next_line(receiver.stdout) == f"DUPLICATE {alert.alert_id}"


def test_an_update_and_a_digest_are_verified_and_described(receiver: Receiver) -> None:
    alert = rafah_alert()
    update = notice_body(AlertNotice("alert.updated", alert, outlets=3, update_sequence=1,
                                     update_reason="now 3 outlets")).encode()
    assert receiver.post(update, signed_headers(receiver.secret, f"{alert.alert_id}-u1", update)) == 204
    assert next_line(receiver.stdout) == f"VERIFIED rafah {alert.alert_id} update 1: now 3 outlets"
    end = datetime(2026, 1, 5, 13, 0, tzinfo=timezone.utc)
    digest = standard_digest_body(DigestNotice("sub_1", end - timedelta(hours=1), end,
                                               (AlertNotice("alert.fired", alert),)), "digest_sub_1_1").encode()
    assert receiver.post(digest, signed_headers(receiver.secret, "digest_sub_1_1", digest)) == 204
    assert next_line(receiver.stdout) == "VERIFIED digest digest_sub_1_1 1 stories"


def test_a_signed_test_event_is_verified(receiver: Receiver) -> None:
    body = trial_event_body("test_0123456789abcdef", "sub_1").encode()
    assert receiver.post(body, signed_headers(receiver.secret, "test_0123456789abcdef", body)) == 204
    assert next_line(receiver.stdout) == "VERIFIED test test_0123456789abcdef"


def test_a_tampered_body_is_rejected_and_does_not_block_the_genuine_one(receiver: Receiver) -> None:
    alert = rafah_alert()
    body = alert.model_dump_json().encode()
    headers = signed_headers(receiver.secret, alert.alert_id, body)
    assert receiver.post(body.replace(b"Rafah", b"Gaza"), headers) == 401
    assert next_line(receiver.stderr) == f"REJECTED {alert.alert_id} no matching v1 signature"
    assert receiver.post(body, headers) == 204
    assert next_line(receiver.stdout).startswith(f"VERIFIED rafah {alert.alert_id} ")


def test_a_stale_but_correctly_signed_request_is_rejected(receiver: Receiver) -> None:
    alert = rafah_alert()
    body = alert.model_dump_json().encode()
    headers = signed_headers(receiver.secret, alert.alert_id, body, now=int(time.time()) - 600)
    assert receiver.post(body, headers) == 401
    assert next_line(receiver.stderr) == f"REJECTED {alert.alert_id} timestamp more than 5 minutes from now"
