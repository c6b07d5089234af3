"""A local webhook receiver that records every request, and the signature check a receiver makes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from newsmon.embedded import free_port


def signature_valid(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Standard Webhooks verification written from the convention alone, with a 5-minute clock tolerance."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    timestamp = headers.get("webhook-timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    content = f"{headers.get('webhook-id', '')}.{timestamp}.".encode() + body
    wanted = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(
        version == "v1" and hmac.compare_digest(value, wanted)
        for version, _, value in (part.partition(",") for part in headers.get("webhook-signature", "").split())
    )


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers every POST with ``status`` and keeps what arrived.

    Its port is chosen before it starts, so a test can subscribe it while it is down (connections refused).
    """

    status: int = 200
    port: int = field(default_factory=free_port)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def url(self, path: str = "hook") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {key.lower(): value for key, value in self.headers.items()}
                with receiver.lock:
                    receiver.requests.append(Received(self.path, headers, body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def snapshot(self, path: str | None = None) -> list[Received]:
        """What arrived so far, on one path (as passed to ``url``) or on all."""
        with self.lock:
            return [request for request in self.requests if path is None or request.path == f"/{path}"]
