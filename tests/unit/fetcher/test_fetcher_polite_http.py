"""The polite client against a real local HTTP server: 304, 429, timeouts, loops, caps, robots."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from guarded_fetching import polite

from services.fetcher.bounded_get import FetchError
from services.fetcher.polite_http import PoliteClient, Politeness

FAST = Politeness(per_host_interval_s=0.0, backoff_s=0.01, max_retries=2, max_bytes=10_000)


class Site:
    """Routes whose behaviour a test can read back (hits per path)."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.base = ""

    def hit(self, request: web.Request) -> int:
        self.hits[request.path] = self.hits.get(request.path, 0) + 1
        return self.hits[request.path]


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    state = Site()

    async def etagged(request: web.Request) -> web.Response:
        state.hit(request)
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(text="<rss/>", headers={"ETag": '"v1"'})

    async def busy_then_ok(request: web.Request) -> web.Response:
        if state.hit(request) == 1:
            return web.Response(status=429, headers={"Retry-After": "1"})
        return web.Response(text="ok")

    async def always_503(request: web.Request) -> web.Response:
        state.hit(request)
        return web.Response(status=503)

    async def slow(request: web.Request) -> web.Response:
        state.hit(request)
        await asyncio.sleep(2)
        return web.Response(text="late")

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop")

    async def moved(request: web.Request) -> web.Response:
        state.hit(request)
        raise web.HTTPMovedPermanently("/feed")

    async def to_ftp(request: web.Request) -> web.Response:
        raise web.HTTPFound("ftp://127.0.0.1/feed")

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(100):
            await response.write(b"x" * 1000)
        return response

    async def robots(request: web.Request) -> web.Response:
        return web.Response(text="User-agent: *\nDisallow: /private/\n")

    async def gone(request: web.Request) -> web.Response:
        state.hit(request)
        return web.Response(status=410)

    app = web.Application()
    app.router.add_get("/feed", etagged)
    app.router.add_get("/busy", busy_then_ok)
    app.router.add_get("/down", always_503)
    app.router.add_get("/slow", slow)
    app.router.add_get("/loop", loop)
    app.router.add_get("/moved", moved)
    app.router.add_get("/to-ftp", to_ftp)
    app.router.add_get("/huge", huge)
    app.router.add_get("/robots.txt", robots)
    app.router.add_get("/private/page", etagged)
    app.router.add_get("/gone", gone)
    runner = web.AppRunner(app)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    state.base = f"http://127.0.0.1:{server._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


@pytest.fixture
async def client() -> AsyncIterator[PoliteClient]:
    async with polite(FAST, timeout_s=0.5) as client:
        yield client


async def test_once_committed_the_next_poll_is_conditional_and_costs_nothing(site: Site, client: PoliteClient) -> None:
    first = await client.get(f"{site.base}/feed")
    uncommitted = await client.get(f"{site.base}/feed")
    assert first.content == uncommitted.content == b"<rss/>", "content never used must come again, not as 304"
    await client.commit([uncommitted])
    committed = await client.get(f"{site.base}/feed")
    assert committed.not_modified and committed.content is None
    assert site.hits["/feed"] == 3


async def test_429_waits_for_retry_after(site: Site, client: PoliteClient) -> None:
    started = time.monotonic()
    page = await client.get(f"{site.base}/busy")
    assert page.content == b"ok"
    assert time.monotonic() - started >= 0.9, "Retry-After: 1 must be honoured"


async def test_5xx_is_retried_then_reported(site: Site, client: PoliteClient) -> None:
    with pytest.raises(FetchError) as error:
        await client.get(f"{site.base}/down")
    assert error.value.kind == "http_503" and site.hits["/down"] == FAST.max_retries + 1
    assert error.value.transient, "a server error may pass: the URL is worth another poll"


async def test_timeout_is_retried_then_reported(site: Site, client: PoliteClient) -> None:
    with pytest.raises(FetchError) as error:
        await client.get(f"{site.base}/slow")
    assert error.value.kind == "timeout"


async def test_redirect_loop_is_cut(site: Site, client: PoliteClient) -> None:
    with pytest.raises(FetchError) as error:
        await client.get(f"{site.base}/loop")
    assert error.value.kind == "redirects"


async def test_a_redirect_is_followed_and_the_page_says_where_it_ended(site: Site, client: PoliteClient) -> None:
    page = await client.get(f"{site.base}/moved")
    assert page.content == b"<rss/>" and page.url == f"{site.base}/feed" and page.requested_url == f"{site.base}/moved"
    assert site.hits["/moved"] == site.hits["/feed"] == 1


async def test_a_redirect_to_anything_but_http_is_a_bad_url(site: Site, client: PoliteClient) -> None:
    with pytest.raises(FetchError) as error:
        await client.get(f"{site.base}/to-ftp")
    assert error.value.kind == "bad_url" and not error.value.transient


async def test_oversized_body_is_refused(site: Site, client: PoliteClient) -> None:
    with pytest.raises(FetchError) as error:
        await client.get(f"{site.base}/huge")
    assert error.value.kind == "too_large"


async def test_robots_txt_is_honoured(site: Site, client: PoliteClient) -> None:
    with pytest.raises(FetchError) as error:
        await client.get(f"{site.base}/private/page")
    assert error.value.kind == "robots" and "/private/page" not in site.hits


async def test_gone_is_not_retried(site: Site, client: PoliteClient) -> None:
    with pytest.raises(FetchError) as error:
        await client.get(f"{site.base}/gone")
    assert error.value.kind == "http_4xx" and site.hits["/gone"] == 1
    assert not error.value.transient


@pytest.mark.parametrize("url", ["http://[bad/x", "http://example.com:99999/", "ftp://example.com/feed"])
async def test_urls_that_cannot_be_requested_are_a_fetch_error(client: PoliteClient, url: str) -> None:
    with pytest.raises(FetchError) as error:
        await client.get(url)
    assert error.value.kind == "bad_url" and not error.value.transient


async def test_a_slow_host_does_not_stall_another(site: Site) -> None:
    async with polite(Politeness(per_host_concurrency=1, respect_robots=False), timeout_s=3.0) as client:
        other_host = site.base.replace("127.0.0.1", "localhost")
        slow = asyncio.create_task(client.get(f"{site.base}/slow"))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await client.get(f"{other_host}/feed")
        assert time.monotonic() - started < 1.5, "the other host waited for the slow one"
        await slow
