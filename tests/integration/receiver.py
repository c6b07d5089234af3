"""A local webhook receiver that records every request, and the signature check a receiver makes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from newsmon.embedded import free_port
from tests.local_http import serve_in_thread, stop_serving


def signature_valid(secret: str, headers: Mapping[str, str], body: bytes, arrived_at: float | None = None) -> bool:
    """Standard Webhooks verification written from the convention alone, with a 5-minute clock tolerance
    around ``arrived_at`` (now by default): a receiver checks a request when it arrives, so a test that
    looks again at a request kept for minutes passes when it was received."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    timestamp = headers.get("webhook-timestamp", "")
    received = time.time() if arrived_at is None else arrived_at
    if not timestamp.isdigit() or abs(received - int(timestamp)) > 300:
        return False
    content = f"{headers.get('webhook-id', '')}.{timestamp}.".encode() + body
    wanted = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(
        version == "v1" and hmac.compare_digest(value, wanted)
        for version, _, value in (part.partition(",") for part in headers.get("webhook-signature", "").split())
    )


STATUS_LINE = b"HTTP/1.1 200 OK\r\n"
Mode = Literal["answer", "fail_first", "hang"]


@dataclass
class Received:
    """One POST as the receiver saw it, and what it answered (None: it hung until the sender left)."""

    path: str
    headers: dict[str, str]
    body: bytes
    arrived_at: float = field(default_factory=time.time)
    answered: int | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that keeps what arrived, and misbehaves when a test says so.

    ``mode`` is ``answer`` (``status`` to everything), ``fail_first`` (500 to the first request of each
    webhook-id, then ``status``) or ``hang`` (read the request, then trickle the status line and a
    header one byte a second, never finishing, until the sender hangs up); a test may change both while
    it runs. The port is chosen before it starts, so a test can subscribe it while it is down
    (connections refused).
    """

    status: int = 200
    mode: Mode = "answer"
    port: int = field(default_factory=free_port)
    requests: list[Received] = field(default_factory=list)
    hanging: int = 0
    most_hanging: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def url(self, path: str = "hook") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = Received(self.path, {key.lower(): value for key, value in self.headers.items()},
                                   self.rfile.read(int(self.headers.get("content-length", "0"))))
                request.answered = receiver._answer_for(request.webhook_id)
                with receiver.lock:  # kept before answering: a sender that saw the answer finds it here
                    receiver.requests.append(request)
                if request.answered is None:
                    receiver._hang(self)
                else:
                    self.send_response(request.answered)
                    self.send_header("content-length", "0")
                    self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = serve_in_thread(Handler, self.port)
        return self

    def stop(self) -> None:
        stop_serving(self.server)
        self.server = None

    def snapshot(self, path: str | None = None) -> list[Received]:
        """What arrived so far, on one path (as passed to ``url``) or on all."""
        with self.lock:
            return [request for request in self.requests if path is None or request.path == f"/{path}"]

    def accepted(self) -> Counter[str]:
        """How many times each webhook-id was answered 2xx."""
        return Counter(request.webhook_id for request in self.snapshot()
                       if request.answered is not None and 200 <= request.answered < 300)

    def _answer_for(self, webhook_id: str) -> int | None:
        with self.lock:
            if self.mode == "hang":
                return None
            if self.mode == "fail_first" and not any(request.webhook_id == webhook_id for request in self.requests):
                return 500
            return self.status

    def _hang(self, handler: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.hanging += 1
            self.most_hanging = max(self.most_hanging, self.hanging)
        try:
            for byte in STATUS_LINE + b"x-slow: " + b"." * 3600:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(1)
        except OSError:  # the sender gave up: what a hanging receiver must lead to
            pass
        finally:
            with self.lock:
                self.hanging -= 1
            handler.close_connection = True
