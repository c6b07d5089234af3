"""Hostile servers on 127.0.0.1 for the fetcher tests (fixtures ``hostile_site``, ``bomb_robots_site``, ``inside``).

``/bomb.html`` is a gzip bomb (about 250 KB that inflate to 256 MB of zeros), ``/endless`` a body
that never ends, ``/drip`` one byte a second for ten minutes, ``/to-inside`` a redirect to the
``inside`` server (a raw TCP listener standing for an internal admin port, which counts the
connections it gets), ``/elsewhere`` an article whose canonical link claims another site, and
``/feed.xml`` lists them all beside one honest article. With ``robots_bomb`` the site's robots.txt
is the gzip bomb. Each streaming handler records what it sent and when the client went away.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache

from aiohttp import web

from tests.news_site import STORIES, story_page

BOMB_DECODED_BYTES = 256 * 1024 * 1024
ELSEWHERE = "https://victim.example/news/rail-reopens"


@cache
def gzip_bomb() -> bytes:
    """``BOMB_DECODED_BYTES`` of zeros, gzip-compressed at the highest level (about 1:1000)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    megabyte = bytes(1024 * 1024)
    parts = [compressor.compress(megabyte) for _ in range(BOMB_DECODED_BYTES // len(megabyte))]
    return b"".join(parts) + compressor.flush()


@dataclass
class Inside:
    """A listener standing for something internal: it only counts who connects, and answers nothing."""

    port: int = 0
    connections: int = 0


@dataclass
class HostileSite:
    base: str = ""
    inside_url: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)
    finished: set[str] = field(default_factory=set)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def feed(self, extra_links: tuple[str, ...] = ()) -> str:
        links = [self.url(path) for path in ("/bomb.html", "/endless", "/drip", "/to-inside", "/elsewhere",
                                             "/news/quota-protest")] + list(extra_links)
        items = "".join(f"<item><title>Item {number}</title><link>{link}</link></item>"
                        for number, link in enumerate(links))
        return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Hostile</title>{items}</channel></rss>"


@asynccontextmanager
async def serve_inside() -> AsyncIterator[Inside]:
    inside = Inside()

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        inside.connections += 1
        writer.close()

    server = await asyncio.start_server(count, "127.0.0.1", 0)
    inside.port = server.sockets[0].getsockname()[1]
    try:
        yield inside
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def serve_hostile_site(inside: Inside, *, robots_bomb: bool = False,
                             extra_links: tuple[str, ...] = ()) -> AsyncIterator[HostileSite]:
    """The site on 127.0.0.1 until the block ends; ``extra_links`` are appended to its feed."""
    site = HostileSite(inside_url=f"http://127.0.0.1:{inside.port}/admin")

    async def stream(request: web.Request, chunk: bytes, pause_s: float, times: int) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        try:
            for _ in range(times):
                await response.write(chunk)
                site.sent[request.path] += len(chunk)
                await asyncio.sleep(pause_s)
        except ConnectionError:
            pass  # the client hung up: what a bounded reader does
        finally:
            site.finished.add(request.path)
        return response

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.path
        site.hits[path] += 1
        if path == "/robots.txt" and robots_bomb or path == "/bomb.html":
            return web.Response(body=gzip_bomb(), headers={"Content-Encoding": "gzip", "Content-Type": "text/html"})
        if path == "/endless":
            return await stream(request, b"<p>" + b"x" * 65_533, 0, 10**9)
        if path == "/drip":
            return await stream(request, b"x", 1.0, 600)
        if path == "/to-inside":
            raise web.HTTPFound(site.inside_url)
        if path == "/elsewhere":
            return web.Response(text=story_page(STORIES["rail-reopens"], canonical=ELSEWHERE), content_type="text/html")
        if path == "/news/quota-protest":
            return web.Response(text=story_page(STORIES["quota-protest"]), content_type="text/html")
        if path == "/feed.xml":
            return web.Response(text=site.feed(extra_links), content_type="application/rss+xml")
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    site.base = f"http://127.0.0.1:{server._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    try:
        yield site
    finally:
        await runner.cleanup()
