"""A small local news site: an RSS feed whose items link to pages full of boilerplate."""

from __future__ import annotations

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


def page(slug: str) -> str:
    title, text = ARTICLES[slug]
    paragraphs = "".join(f"<p>{sentence.strip()}.</p>" for sentence in text.split(". ") if sentence.strip())
    chrome = "".join(f"<div class='nav'>{item}</div>" for item in BOILERPLATE)
    return (f"<html><head><title>{title} | Daily Test</title></head><body><nav>Home World Sport</nav>{chrome}"
            f"<article><h1>{title}</h1>{paragraphs}</article><footer>© Daily Test. All rights reserved.</footer>"
            "</body></html>")


def feed(base: str) -> str:
    items = "".join(
        f"<item><title>{title}</title><link>{base}/articles/{slug}.html?utm_source=rss</link>"
        f"<pubDate>Mon, 23 Nov 2026 0{i}:00:00 GMT</pubDate><description>{title}</description></item>"
        for i, (slug, (title, _)) in enumerate(ARTICLES.items())
    )
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Daily Test</title>{items}</channel></rss>"


class NewsSite:
    """Serves /feed.xml and /articles/<slug>.html on 127.0.0.1."""

    def start(self) -> str:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?", 1)[0]
                if path == "/feed.xml":
                    body, kind = feed(site.base).encode(), "application/rss+xml"
                elif (slug := path.removeprefix("/articles/").removesuffix(".html")) in ARTICLES:
                    body, kind = page(slug).encode(), "text/html"
                else:
                    self.send_error(404)
                    return
                etag = f'"{hash(body) & 0xFFFFFFFF:x}"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("etag", etag)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"{self.base}/feed.xml"

    def stop(self) -> None:
        self.server.shutdown()
