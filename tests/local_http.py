"""HTTP on loopback as the tests use it: fake receivers served from a thread, and JSON API calls made
the way a user's client makes them."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def serve_in_thread(handler: type[BaseHTTPRequestHandler], port: int) -> ThreadingHTTPServer:
    """A server on 127.0.0.1:``port`` answering with ``handler``, each request in its own daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop_serving(server: ThreadingHTTPServer | None) -> None:
    """Stop a ``serve_in_thread`` server and free its port (nothing to do for None)."""
    if server is not None:
        server.shutdown()
        server.server_close()


def json_call(url: str, method: str, body: Any = None, token: str | None = None,
              timeout_s: float = 10) -> tuple[int, Any]:
    """(status, decoded JSON body or None) of one request with an optional bearer token; an error status
    is an answer like any other."""
    request = urllib.request.Request(
        url, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None
