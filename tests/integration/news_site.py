"""A small local news site: an RSS feed whose items link to pages full of boilerplate, with ETags.

Tests may change its stories, take paths down (503), and read back what it answered.
"""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ARTICLES = {
    "harbour": ("City council approves harbour renewal plan",
                "The city council approved a plan on Monday to renew the old harbour district over ten years. "
                "Officials said the first phase would rebuild the sea wall and open a public promenade. "
                "Residents who spoke at the hearing welcomed the promenade but asked for more affordable housing."),
    "library": ("Central library reopens after two-year refit",
                "The central library reopened its doors on Saturday after a two-year refit that added study rooms. "
                "Librarians said visitor numbers on the first day were three times the usual weekend count. "
                "The building now runs on solar power and stays open until ten in the evening."),
}
BOILERPLATE = ("Subscribe to our newsletter", "Share on Facebook", "Cookie settings", "Related: Weather this week")


def page(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{sentence.strip()}.</p>" for sentence in text.split(". ") if sentence.strip())
    chrome = "".join(f"<div class='nav'>{item}</div>" for item in BOILERPLATE)
    return (f"<html><head><title>{title} | Daily Test</title></head><body><nav>Home World Sport</nav>{chrome}"
            f"<article><h1>{title}</h1>{paragraphs}</article><footer>© Daily Test. All rights reserved.</footer>"
            "</body></html>")


def feed(base: str, stories: dict[str, tuple[str, str]]) -> str:
    items = "".join(
        f"<item><title>{title}</title><link>{base}/articles/{slug}.html?utm_source=rss</link>"
        f"<pubDate>Mon, 23 Nov 2026 0{i}:00:00 GMT</pubDate><description>{title}</description></item>"
        for i, (slug, (title, _)) in enumerate(stories.items())
    )
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Daily Test</title>{items}</channel></rss>"


class NewsSite:
    """Serves /feed.xml and /articles/<slug>.html of ``stories`` on 127.0.0.1."""

    def __init__(self, stories: dict[str, tuple[str, str]] | None = None) -> None:
        self.stories = dict(stories or ARTICLES)
        self.down: set[str] = set()
        self.answers: list[tuple[str, int]] = []
        self.server: ThreadingHTTPServer | None = None
        self.base = ""

    @property
    def feed_url(self) -> str:
        return f"{self.base}/feed.xml"

    def body(self, path: str) -> tuple[bytes, str] | None:
        """The content and content type at ``path``, or None when nothing is there."""
        if path == "/feed.xml":
            return feed(self.base, self.stories).encode(), "application/rss+xml"
        story = self.stories.get(path.removeprefix("/articles/").removesuffix(".html"))
        return (page(*story).encode(), "text/html") if story else None

    def last_answer(self, path: str) -> int:
        return [status for answered, status in self.answers if answered == path][-1]

    def start(self) -> NewsSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                found = site.body(path)
                etag = f'"{hashlib.sha256(found[0]).hexdigest()[:16]}"' if found else ""
                status = (503 if path in site.down else 404 if found is None
                          else 304 if self.headers.get("If-None-Match") == etag else 200)
                site.answers.append((path, status))
                self.send_response(status)
                if status == 200 and found is not None:
                    body, kind = found
                    self.send_header("etag", etag)
                    self.send_header("content-type", kind)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
