"""Receive newsmon's alert webhooks and verify their Standard Webhooks signatures (stdlib only).

    python -c 'import base64, os; print("whsec_" + base64.b64encode(os.urandom(32)).decode())'  # a secret
    python examples/webhook_receiver.py --secret whsec_... [--port 9000] [--host 127.0.0.1]

Start newsmon with ``NEWSMON_WEBHOOK_ALLOW_PRIVATE=true make run`` (it refuses private addresses such
as 127.0.0.1 otherwise), then subscribe this receiver with the same secret:

    curl -H "Authorization: Bearer $(cat .newsmon/api-token)" http://127.0.0.1:8085/api/subscriptions \\
      -d '{"url": "http://127.0.0.1:9000/hook", "secret": "whsec_...", "rules": ["iran-sanctions", "rafah"],
           "replay_hours": 24}'

Each verified alert prints ``VERIFIED <rule_id> <alert_id> <title>`` (an update: ``VERIFIED <rule_id>
<alert_id> update <n>: <reason>``, a digest: ``VERIFIED digest <digest_id> <n> stories``, a test event:
``VERIFIED test <event_id>``). A bad signature or a timestamp over 5 minutes off gets 401 and ``REJECTED <id> <reason>``
on stderr. newsmon retries until it gets a 2xx, so a webhook-id seen before is answered 204 and printed
as ``DUPLICATE <id>`` instead of being handled twice.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

SECRET_PREFIX = "whsec_"
TOLERANCE_S = 5 * 60


def secret_key(secret: str) -> bytes:
    """The HMAC key: a ``whsec_`` secret carries it base64-encoded, any other secret is the key itself."""
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    return secret.encode("utf-8")


def rejection(key: bytes, headers: Message, body: bytes, now: float) -> str | None:
    """Why a request is not an authentic, fresh webhook, or None when it is."""
    msg_id, timestamp, signatures = (headers.get(name) for name in
                                     ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and timestamp and signatures):
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "timestamp is not unix seconds"
    if abs(now - sent_at) > TOLERANCE_S:  # a captured request cannot be replayed later
        return "timestamp more than 5 minutes from now"
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    expected = base64.b64encode(digest).decode("ascii")
    for entry in signatures.split():  # several entries while the sender rotates secrets
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return None
    return "no matching v1 signature"


def describe(event: dict[str, object]) -> str:
    """The line printed for a verified message: a test event, a digest, an update or an alert."""
    if event.get("type") == "newsmon.test":
        return f"VERIFIED test {event['event_id']}"
    if event.get("type") == "digest":
        return f"VERIFIED digest {event['digest_id']} {event['story_count']} stories"
    if event.get("type") == "alert.updated":
        update = f"update {event['update_sequence']}: {event['update_reason']}"
        return f"VERIFIED {event['rule_id']} {event['alert_id']} {update}"
    return f"VERIFIED {event['rule_id']} {event['alert_id']} {event['title']}"


_OUTPUT_LOCK = threading.Lock()


def say(line: str, stream: TextIO) -> None:
    """One whole line at a time: requests are handled on concurrent threads, and print() writes the
    text and its newline separately, so two lines could interleave."""
    with _OUTPUT_LOCK:
        stream.write(line + "\n")
        stream.flush()


class Receiver(ThreadingHTTPServer):
    """The HTTP server, holding the key and the webhook-ids already handled (in memory only)."""

    def __init__(self, address: tuple[str, int], key: bytes) -> None:
        super().__init__(address, WebhookHandler)
        self.key = key
        self.seen: set[str] = set()
        self.seen_lock = threading.Lock()

    def first_time(self, msg_id: str) -> bool:
        """True the first time an id is seen; requests are handled on concurrent threads."""
        with self.seen_lock:
            if msg_id in self.seen:
                return False
            self.seen.add(msg_id)
            return True


class WebhookHandler(BaseHTTPRequestHandler):
    """Verifies every POST, whatever its path."""

    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        msg_id = self.headers.get("webhook-id") or "-"
        reason = rejection(self.server.key, self.headers, body, time.time())
        if reason is not None:
            self.reject(401, msg_id, reason)
            return
        try:
            line = describe(json.loads(body))
        except (ValueError, KeyError, TypeError, AttributeError):
            self.reject(400, msg_id, "signed, but not a newsmon alert or test event")
            return
        say(line if self.server.first_time(msg_id) else f"DUPLICATE {msg_id}", sys.stdout)
        self.reply(204)

    def reject(self, status: int, msg_id: str, reason: str) -> None:
        say(f"REJECTED {msg_id} {reason}", sys.stderr)
        self.reply(status)

    def reply(self, status: int) -> None:
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Silenced: the one line per webhook above says more than the access log."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--secret", default=os.environ.get("NEWSMON_WEBHOOK_SECRET"),
                        help="the subscription's secret (default: $NEWSMON_WEBHOOK_SECRET)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000, help="0 picks a free port")
    args = parser.parse_args()
    if not args.secret:
        parser.error("give --secret or set NEWSMON_WEBHOOK_SECRET")
    try:
        key = secret_key(args.secret)
    except binascii.Error:
        parser.error("a secret written whsec_... must be base64 after the prefix")
    with Receiver((args.host, args.port), key) as server:
        print(f"listening on http://{args.host}:{server.server_address[1]}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops quietly
            server.serve_forever()


if __name__ == "__main__":
    main()
