"""Webhook receivers that misbehave the way real ones do: down, failing once, or hanging on their headers.

Each records every request with what it answered, so a test can check what a subscriber saw: every
alert delivered, each ``webhook-id`` accepted (2xx) exactly once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from newsmon.embedded import free_port

STATUS_LINE = b"HTTP/1.1 200 OK\r\n"


@dataclass(frozen=True)
class Request:
    """One POST as the receiver saw it, and what it answered (None: it hung until the client left)."""

    webhook_id: str
    body: dict[str, Any]
    arrived_at: float
    answered: int | None


@dataclass
class MisbehavingReceiver:
    """A webhook receiver on 127.0.0.1 whose behaviour a test changes while it runs.

    ``mode`` is ``healthy`` (200), ``fail_first`` (500 to the first request of each webhook-id, then
    200), or ``hang`` (read the request, then trickle the status line and a header one byte per
    second, never finishing, until the client hangs up). The port is chosen before ``start``, so a
    test can subscribe a receiver that is down (connections refused).
    """

    mode: str = "healthy"
    port: int = field(default_factory=free_port)
    requests: list[Request] = field(default_factory=list)
    hanging: int = 0
    most_hanging: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> MisbehavingReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                arrived_at = time.time()
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                webhook_id = self.headers.get("webhook-id", "")
                status = receiver._answer_for(webhook_id)
                if status is None:
                    receiver._hang(self)
                else:
                    self.send_response(status)
                    self.send_header("content-length", "0")
                    self.end_headers()
                receiver._record(Request(webhook_id, json.loads(body), arrived_at, status))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def _answer_for(self, webhook_id: str) -> int | None:
        with self.lock:
            if self.mode == "hang":
                return None
            if self.mode == "fail_first" and not any(request.webhook_id == webhook_id for request in self.requests):
                return 500
            return 200

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

    def _record(self, request: Request) -> None:
        with self.lock:
            self.requests.append(request)

    def snapshot(self) -> list[Request]:
        with self.lock:
            return list(self.requests)

    def accepted(self) -> Counter[str]:
        """How many times each webhook-id was answered 2xx."""
        return Counter(request.webhook_id for request in self.snapshot()
                       if request.answered is not None and 200 <= request.answered < 300)
