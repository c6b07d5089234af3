"""The one local news site every test fetches from, served on 127.0.0.1.

Article pages are buried in the usual chrome (cookie banner, menu, share bar, newsletter box,
related links, footer); ``/rss.xml`` lists teasers of ``stories`` that link to them with tracking
parameters, plus a page that is gone and one with no text; ``/atom.xml`` carries full stories;
``/bad-links.xml`` has items whose links cannot be fetched and one whose page has a broken canonical
link; ``/binary/*`` serves images and random bytes as pages. Every response has an ETag and answers a
matching If-None-Match with 304. Tests may change ``stories`` and take paths ``down`` (503); every
request is counted per path (``hits``) and every answer logged (``answers``).

Async tests serve it with ``serve_news_site()`` on their own event loop (the fetcher unit tests'
``news_site`` fixture); tests of the running stack with ``news_site_in_thread()`` (the integration
session's ``news_site`` fixture and the fetcher restart tests).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import struct
import threading
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from aiohttp import web
from aiohttp.typedefs import Handler


@dataclass(frozen=True)
class Story:
    slug: str
    title: str
    paragraphs: tuple[str, ...]
    published_iso: str
    published_rfc822: str


STORIES = {
    "rail-reopens": Story(
        "rail-reopens",
        "Northern rail line to reopen in March after flood repairs",
        (
            "The regional government announced on Tuesday that the northern rail line will reopen in March, two "
            "years after floods washed away three bridges near the river delta.",
            "Engineers rebuilt the bridges on deeper foundations and raised the track by almost a metre, the "
            "transport minister told reporters at the station in Kellby.",
            "Commuters who have spent two winters on replacement buses welcomed the news, though several said "
            "they would wait to see whether the first trains run on time.",
        ),
        "2026-11-20T07:45:00+01:00",
        "Fri, 20 Nov 2026 06:45:00 GMT",
    ),
    "quota-protest": Story(
        "quota-protest",
        "Fishermen protest new quota rules outside parliament",
        (
            "Several hundred fishermen gathered outside parliament on Wednesday to protest against new catch "
            "quotas that cut the allowed cod landings by a third.",
            "Union leaders said the rules would force small family boats out of business within two seasons, "
            "while the fisheries ministry said stocks in the northern sea were close to collapse.",
            "The protest was peaceful, police said, and the crowd dispersed in the early afternoon after a "
            "delegation was received by members of the fisheries committee.",
        ),
        "2026-11-18T14:05:00+00:00",
        "Wed, 18 Nov 2026 14:05:00 GMT",
    ),
}

# Text from the page chrome: none of it may end up in an article.
BOILERPLATE = (
    "We use cookies", "Accept all cookies", "Subscribe now", "Politics", "Share on Facebook", "Email this article",
    "Get the morning briefing", "Related stories", "Bus drivers vote on new contract", "Privacy policy",
    "All rights reserved",
)


def story_page(story: Story, *, canonical: str | None = None, lang: str = "en-GB") -> str:
    """A news page as sites really ship it, the story in the middle of the chrome."""
    body = "".join(f"<p>{paragraph}</p>" for paragraph in story.paragraphs)
    canonical_link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">
<title>{story.title} | The Daily Example</title>{canonical_link}
<meta property="og:url" content="https://www.daily-example.com/">
<meta property="og:title" content="{story.title}">
<meta property="article:published_time" content="{story.published_iso}">
<meta name="author" content="Maria Lind"></head><body>
<div id="cookie-banner" class="cookie-consent"><p>We use cookies to improve your experience.</p>
<button>Accept all cookies</button><button>Manage preferences</button></div>
<header><a href="/" class="logo">The Daily Example</a><nav class="main-menu"><ul>
<li><a href="/news">News</a></li><li><a href="/politics">Politics</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/subscribe">Subscribe now</a></li></ul></nav></header>
<main><div class="breadcrumbs"><a href="/">Home</a> &gt; <a href="/news">News</a></div>
<article class="story"><h1>{story.title}</h1><div class="byline">By Maria Lind</div>
<div class="share-bar"><a href="#">Share on Facebook</a> <a href="#">Share on X</a>
<a href="#">Email this article</a></div>
<div class="story-body">{body}</div>
<div class="newsletter-box"><h3>Get the morning briefing</h3><p>Sign up for our newsletter.</p></div></article>
<aside class="related"><h2>Related stories</h2><ul><li><a href="/news/a">Bus drivers vote on new contract</a></li>
<li><a href="/news/b">Floods: one year on in the delta</a></li></ul></aside></main>
<footer><ul><li><a href="/about">About us</a></li><li><a href="/privacy">Privacy policy</a></li></ul>
<p>&copy; 2026 The Daily Example Ltd. All rights reserved.</p></footer></body></html>"""


@dataclass
class NewsSite:
    """What the site serves now, and what it was asked."""

    stories: dict[str, Story] = field(default_factory=lambda: dict(STORIES))
    base: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    down: set[str] = field(default_factory=set)
    answers: list[tuple[str, int]] = field(default_factory=list)

    def last_answer(self, path: str) -> int:
        """The status of the latest request for ``path``."""
        return [status for answered, status in self.answers if answered == path][-1]

    @property
    def rss_url(self) -> str:
        return f"{self.base}/rss.xml"

    @property
    def atom_url(self) -> str:
        return f"{self.base}/atom.xml"

    @property
    def bad_links_url(self) -> str:
        return f"{self.base}/bad-links.xml"


def _rss(base: str, stories: Mapping[str, Story]) -> str:
    items = "".join(
        f"<item><title>{story.title}</title><link>{base}/news/{slug}?utm_source=rss&amp;utm_medium=feed</link>"
        f"<pubDate>{story.published_rfc822}</pubDate><description>{story.paragraphs[0][:80]}...</description></item>"
        for slug, story in stories.items()
    )
    broken = (f"<item><title>Page gone</title><link>{base}/news/gone</link></item>"
              f"<item><title>Video only</title><link>{base}/news/video</link></item>")
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>The Daily Example</title>"
            f"<link>{base}/</link>{items}{broken}</channel></rss>")


def _atom(base: str, stories: Mapping[str, Story]) -> str:
    entries = "".join(
        f"<entry><title>{story.title}</title><id>urn:daily:{slug}</id><author><name>Maria Lind</name></author>"
        f"<link rel='alternate' href='{base}/full/{slug}?utm_campaign=atom'/>"
        f"<published>{story.published_iso}</published><updated>2026-11-22T10:00:00Z</updated>"
        f"<summary>{story.paragraphs[0][:60]}</summary><content type='html'>"
        + "".join(f"&lt;p&gt;{paragraph}&lt;/p&gt;" for paragraph in story.paragraphs)
        + "</content></entry>"
        for slug, story in stories.items()
    )
    return (f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom' xml:lang='en-GB'>"
            f"<title>The Daily Example</title><id>urn:daily</id><updated>2026-11-22T10:00:00Z</updated>"
            f"{entries}</feed>")


def _bad_links(base: str) -> str:
    """A feed as a careless CMS writes it: a broken IPv6 literal, a script link, and one good item."""
    items = ("<item><title>Broken host</title><link>http://[bad/x</link></item>"
             "<item><title>Script</title><link>javascript:alert(1)</link></item>"
             f"<item><title>Good story, bad canonical</title><link>{base}/bad-canonical/quota-protest</link></item>")
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>Careless</title>{items}</channel></rss>"


def random_bytes(size: int) -> bytes:
    """The same ``size`` random bytes on every run."""
    return random.Random(7).randbytes(size)


def png_image() -> bytes:
    """A real PNG (signature, IHDR, IDAT, IEND) of 200x200 noisy pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + random_bytes(600) for _ in range(200))
    header = struct.pack(">IIBBBBB", 200, 200, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


@asynccontextmanager
async def serve_news_site(stories: Mapping[str, Story] | None = None) -> AsyncIterator[NewsSite]:
    """The site (with ``stories``, else ``STORIES``), running on this event loop until the block ends."""
    site = NewsSite(dict(stories or STORIES))

    @web.middleware
    async def conditional(request: web.Request, handler: Handler) -> web.StreamResponse:
        site.hits[request.path] += 1
        response = await _answer(request, handler)
        site.answers.append((request.path, response.status))
        return response

    async def _answer(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in site.down:
            return web.Response(status=503)
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            return web.Response(status=404)
        if isinstance(response, web.Response) and isinstance(response.body, bytes) and response.status == 200:
            etag = f'"{hashlib.sha256(response.body).hexdigest()[:16]}"'
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers={"ETag": etag})
            response.headers["ETag"] = etag
        return response

    async def without_content_type(request: web.Request, response: web.StreamResponse) -> None:
        if request.path.startswith("/untyped/"):
            response.headers.pop("Content-Type", None)

    async def handle(request: web.Request) -> web.Response:
        path = request.path
        if path == "/bad-links.xml":
            return web.Response(text=_bad_links(site.base), content_type="application/rss+xml")
        if path == "/bad-canonical/quota-protest":
            return web.Response(text=story_page(STORIES["quota-protest"], canonical="http://[bad"),
                                content_type="text/html")
        if path == "/binary/random.html":
            return web.Response(body=random_bytes(300_000), content_type="text/html")
        if path == "/untyped/image":
            return web.Response(body=png_image())
        if path == "/untyped/random":
            return web.Response(body=random_bytes(300_000))
        if path == "/untyped/rail-reopens":
            return web.Response(body=story_page(STORIES["rail-reopens"]).encode())
        if path == "/rss.xml":
            return web.Response(text=_rss(site.base, site.stories), content_type="application/rss+xml")
        if path == "/atom.xml":
            return web.Response(text=_atom(site.base, site.stories), content_type="application/atom+xml")
        if path == "/garbage.xml":
            return web.Response(body=b"\x89PNG\r\n\x1a\n\x00binary", content_type="application/rss+xml")
        if path == "/news/video":
            return web.Response(text="<html><body><nav>Home News Sport</nav><video src='/v.mp4'></video></body></html>",
                                content_type="text/html")
        slug = path.removeprefix("/news/")
        if slug in site.stories:
            # The first story names its canonical URL (relative, as many sites do); the others have none.
            canonical = f"/news/{slug}" if slug == "rail-reopens" else None
            return web.Response(text=story_page(site.stories[slug], canonical=canonical), content_type="text/html")
        raise web.HTTPNotFound()

    app = web.Application(middlewares=[conditional])
    app.on_response_prepare.append(without_content_type)
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    site.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield site
    finally:
        await runner.cleanup()


@contextmanager
def news_site_in_thread(stories: Mapping[str, Story] | None = None) -> Iterator[NewsSite]:
    """The same site on an event loop of its own, in a thread: for tests of the running stack, whose
    code blocks (``asyncio.run``, subprocesses) while the site must keep answering."""
    loop = asyncio.new_event_loop()
    started: list[NewsSite] = []
    ready = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        async with serve_news_site(stories) as site:
            started.append(site)
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("the news site did not start within 30 s")
        yield started[0]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
        loop.close()


def published_at(story: Story) -> datetime:
    """When the feed says the story was published, in UTC, as the fetcher must read it."""
    return parsedate_to_datetime(story.published_rfc822).astimezone(timezone.utc)
