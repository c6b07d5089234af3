"""A polite, robust HTTP client for the fetcher.

Per host: a concurrency limit and a minimum interval between requests, robots.txt honoured.
Per request: conditional GET (ETag / Last-Modified remembered once the caller commits them, a 304
costs nothing), retries with exponential backoff and full jitter on timeouts, connection errors,
429 and 5xx (Retry-After respected, capped), a body-size cap read from the stream, a redirect cap,
and a clear User-Agent.
A slow or failing host only ever waits on its own semaphore, so it never stalls the others.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from newsmon import __version__
from services.fetcher.errors import SourceError
from services.fetcher.metrics import FETCH_SECONDS, FETCHED_BYTES, FETCHES
from services.fetcher.urls import web_url
from shared.settings import Settings

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0
USER_AGENT = f"newsmon/{__version__} (self-hosted news monitor; +https://github.com/newsmon/newsmon)"
ROBOTS_TTL_S = 3600.0


class FetchError(SourceError):
    """A fetch that failed; ``kind`` is a bounded label (timeout, too_large, robots, ...).

    ``transient`` marks failures that may pass on their own (timeouts, connection errors, 429 and
    5xx, each after the retries): the URL is worth trying again on a later poll.
    """

    def __init__(self, url: str, kind: str, detail: str, *, transient: bool = False) -> None:
        super().__init__(f"{url}: {kind}: {detail}", kind)
        self.url = url
        self.transient = transient


@dataclass(frozen=True)
class Validators:
    """What a server told us to send back for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


class ValidatorStore(Protocol):
    """Where ETag / Last-Modified survive between polls (Redis in the service, a dict in tests)."""

    async def load(self, url: str) -> Validators: ...

    async def save(self, url: str, validators: Validators) -> None: ...


class MemoryValidatorStore:
    """In-process validator store, for one-off runs and tests."""

    def __init__(self) -> None:
        self._by_url: dict[str, Validators] = {}

    async def load(self, url: str) -> Validators:
        return self._by_url.get(url, Validators())

    async def save(self, url: str, validators: Validators) -> None:
        self._by_url[url] = validators


@dataclass(frozen=True)
class Page:
    """A fetched resource; ``content`` is None when the server answered 304 Not Modified.

    ``url`` is where the content came from after redirects. ``validators`` are what the server
    sent for the next conditional GET of ``requested_url``; ``PoliteClient.commit`` stores them.
    """

    requested_url: str
    url: str
    content: bytes | None
    content_type: str
    validators: Validators = Validators()

    @property
    def not_modified(self) -> bool:
        return self.content is None


@dataclass
class Politeness:
    """Limits that keep newsmon a good citizen; the defaults suit news sites."""

    per_host_concurrency: int = 2
    per_host_interval_s: float = 1.0
    max_bytes: int = 5_000_000
    max_retries: int = 3
    backoff_s: float = 1.0
    respect_robots: bool = True


class PoliteClient:
    """GET with per-host limits, robots.txt, conditional requests, retries and size caps."""

    def __init__(self, client: httpx.AsyncClient, validators: ValidatorStore, politeness: Politeness) -> None:
        self.client = client
        self.validators = validators
        self.politeness = politeness
        self._host_slots: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(politeness.per_host_concurrency)
        )
        self._host_next_start: dict[str, float] = defaultdict(float)
        self._robots: dict[str, tuple[float, RobotFileParser | None]] = {}

    async def get(self, url: str) -> Page:
        """Fetch ``url``, conditionally when validators were committed; raises FetchError with a bounded ``kind``.

        The response's validators are not stored here: see ``commit``.
        """
        started = time.monotonic()
        try:
            if web_url(url) is None:
                raise FetchError(url, "bad_url", "not an http(s) URL that can be requested")
            if self.politeness.respect_robots and not await self._allowed(url):
                raise FetchError(url, "robots", "disallowed by robots.txt")
            page = await self._get_with_retries(url)
        except FetchError as error:
            FETCHES.labels(error.kind).inc()
            raise
        finally:
            FETCH_SECONDS.observe(time.monotonic() - started)
        FETCHES.labels("not_modified" if page.not_modified else "ok").inc()
        return page

    async def commit(self, pages: Iterable[Page]) -> None:
        """Remember the validators of ``pages``, so their next GET can be answered 304.

        Call it only once everything taken from those pages was published or deliberately
        skipped: a crash before then fetches the content again instead of getting a 304 for
        content that never went anywhere.
        """
        for page in pages:
            if page.content is not None:
                await self.validators.save(page.requested_url, page.validators)

    async def _get_with_retries(self, url: str) -> Page:
        attempt = 0
        while True:
            try:
                return await self._get_once(url)
            except _Retryable as retry:
                attempt += 1
                if attempt > self.politeness.max_retries:
                    raise FetchError(url, retry.kind, f"{retry.detail} after {attempt} attempts",
                                     transient=True) from None
                delay = retry.retry_after_s or random.uniform(0, self.politeness.backoff_s * 2**attempt)
                await asyncio.sleep(min(delay, MAX_RETRY_AFTER_S))

    async def _get_once(self, url: str) -> Page:
        headers = {}
        known = await self.validators.load(url)
        if known.etag:
            headers["If-None-Match"] = known.etag
        if known.last_modified:
            headers["If-Modified-Since"] = known.last_modified
        host = urlsplit(url).netloc.lower()
        async with self._host_slots[host]:
            await self._wait_turn(host)
            try:
                async with self.client.stream("GET", url, headers=headers) as response:
                    if response.status_code == 304:
                        return Page(url, str(response.url), None, response.headers.get("content-type", ""))
                    if response.status_code in RETRYABLE_STATUS:
                        raise _Retryable(f"http_{response.status_code}", f"HTTP {response.status_code}",
                                         _retry_after(response))
                    if response.status_code >= 400:
                        raise FetchError(url, f"http_{response.status_code // 100}xx", f"HTTP {response.status_code}")
                    content = await self._read_capped(url, response)
            except httpx.TooManyRedirects as error:
                raise FetchError(url, "redirects", "too many redirects (a loop?)") from error
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
                # A redirect to an unusable location: retrying cannot help.
                raise FetchError(url, "bad_url", str(error)) from error
            except httpx.TimeoutException as error:
                raise _Retryable("timeout", type(error).__name__) from error
            except httpx.TransportError as error:
                raise _Retryable("connection", type(error).__name__) from error
        return Page(url, str(response.url), content, response.headers.get("content-type", ""),
                    Validators(response.headers.get("etag"), response.headers.get("last-modified")))

    async def _read_capped(self, url: str, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.politeness.max_bytes:
            raise FetchError(url, "too_large", f"{declared} bytes declared, cap is {self.politeness.max_bytes}")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self.politeness.max_bytes:
                raise FetchError(url, "too_large", f"more than {self.politeness.max_bytes} bytes")
        FETCHED_BYTES.inc(len(body))
        return bytes(body)

    async def _wait_turn(self, host: str) -> None:
        """Space requests to one host by ``per_host_interval_s``."""
        now = time.monotonic()
        start = max(now, self._host_next_start[host])
        self._host_next_start[host] = start + self.politeness.per_host_interval_s
        if start > now:
            await asyncio.sleep(start - now)

    async def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        cached = self._robots.get(origin)
        if cached is None or time.monotonic() - cached[0] > ROBOTS_TTL_S:
            cached = (time.monotonic(), await self._load_robots(origin))
            self._robots[origin] = cached
        parser = cached[1]
        user_agent = str(self.client.headers.get("user-agent", "*"))
        return parser is None or parser.can_fetch(user_agent, url)

    async def _load_robots(self, origin: str) -> RobotFileParser | None:
        """The site's robots.txt; a missing or unreadable one allows everything."""
        try:
            response = await self.client.get(f"{origin}/robots.txt")
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        parser = RobotFileParser()
        parser.parse(response.text.splitlines())
        return parser


def polite_client(settings: Settings, validators: ValidatorStore) -> PoliteClient:
    """The fetcher's client, configured from settings (service and ``newsmon fetch`` alike)."""
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.http_timeout_s, connect=min(10.0, settings.http_timeout_s)),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
        max_redirects=settings.fetch_max_redirects,
    )
    return PoliteClient(http, validators, Politeness(
        per_host_concurrency=settings.fetch_per_host_concurrency,
        per_host_interval_s=settings.fetch_per_host_interval_s,
        max_bytes=settings.fetch_max_bytes,
        max_retries=settings.fetch_max_retries,
        respect_robots=settings.fetch_respect_robots,
    ))


class _Retryable(Exception):
    def __init__(self, kind: str, detail: str, retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.retry_after_s = retry_after_s


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None
