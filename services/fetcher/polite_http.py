"""A polite, robust HTTP client for the fetcher.

Per host: a concurrency limit and a minimum interval between requests, robots.txt honoured.
Per request: conditional GET (ETag / Last-Modified remembered once the caller commits them, a 304
costs nothing), retries with exponential backoff and full jitter on timeouts, connection errors,
429 and 5xx (Retry-After respected, capped), and a clear User-Agent. Every GET, robots.txt
included, is a ``bounded_get``: address guard on every hop, decompressed-size cap, one deadline.
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

from services.fetcher.bounded_get import FetchError, FetchLimits, RetryableFetch, bounded_get
from services.fetcher.metrics import FETCH_SECONDS, FETCHES, HOSTILE_KINDS
from services.fetcher.urls import web_url
from shared.address_guard import AddressGuard, Resolver, system_resolver
from shared.guarded_http import guarded_client
from shared.settings import Settings
from shared.version import __version__

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0
USER_AGENT = f"newsmon/{__version__} (self-hosted news monitor; +https://github.com/newsmon/newsmon)"
ROBOTS_TTL_S = 3600.0


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
    max_redirects: int = 5
    deadline_s: float = 30.0
    max_retries: int = 3
    backoff_s: float = 1.0
    respect_robots: bool = True

    @property
    def limits(self) -> FetchLimits:
        """What one GET may cost (see ``bounded_get``)."""
        return FetchLimits(self.max_bytes, self.max_redirects, self.deadline_s)


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
            except RetryableFetch as retry:
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
            answer = await bounded_get(self.client, url, headers, self.politeness.limits)
        content_type = answer.headers.get("content-type", "")
        if answer.status == 304:
            return Page(url, answer.url, None, content_type)
        if answer.status in RETRYABLE_STATUS:
            raise RetryableFetch(f"http_{answer.status}", f"HTTP {answer.status}", _retry_after(answer.headers))
        if answer.status >= 400:
            raise FetchError(url, f"http_{answer.status // 100}xx", f"HTTP {answer.status}")
        return Page(url, answer.url, answer.content or b"", content_type,
                    Validators(answer.headers.get("etag"), answer.headers.get("last-modified")))

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
            try:
                cached = (time.monotonic(), await self._load_robots(origin))
            except FetchError as error:  # named after the page it keeps us from, the cause kept
                raise FetchError(url, error.kind, f"robots.txt: {error.detail}", transient=error.transient) from error
            self._robots[origin] = cached
        parser = cached[1]
        user_agent = str(self.client.headers.get("user-agent", "*"))
        return parser is None or parser.can_fetch(user_agent, url)

    async def _load_robots(self, origin: str) -> RobotFileParser | None:
        """The site's robots.txt, read like any other body; a missing or unreachable one allows everything.

        One that a hostile server made unreadable (too large once decoded, too slow, undecodable),
        or whose host the guard refuses, raises that FetchError: the site's pages are skipped with it.
        """
        try:
            answer = await bounded_get(self.client, f"{origin}/robots.txt", {}, self.politeness.limits)
        except RetryableFetch:
            return None
        except FetchError as error:
            if error.kind in HOSTILE_KINDS:
                raise
            return None
        if answer.status != 200 or answer.content is None:
            return None
        parser = RobotFileParser()
        parser.parse(answer.content.decode("utf-8", errors="replace").splitlines())
        return parser


def fetch_guard(settings: Settings, resolver: Resolver = system_resolver) -> AddressGuard:
    """The fetcher's address guard: non-public addresses refused unless ``NEWSMON_FETCH_ALLOW_PRIVATE``."""
    return AddressGuard(settings.fetch_allow_private, "fetch", "NEWSMON_FETCH_ALLOW_PRIVATE", resolver)


def polite_client(settings: Settings, validators: ValidatorStore) -> PoliteClient:
    """The fetcher's client, configured from settings (service and ``newsmon fetch`` alike), guarded."""
    http = guarded_client(
        fetch_guard(settings),
        timeout=httpx.Timeout(settings.http_timeout_s, connect=min(10.0, settings.http_timeout_s)),
        headers={"User-Agent": USER_AGENT},
    )
    return PoliteClient(http, validators, Politeness(
        per_host_concurrency=settings.fetch_per_host_concurrency,
        per_host_interval_s=settings.fetch_per_host_interval_s,
        max_bytes=settings.fetch_max_bytes,
        max_redirects=settings.fetch_max_redirects,
        deadline_s=settings.fetch_deadline_s,
        max_retries=settings.fetch_max_retries,
        respect_robots=settings.fetch_respect_robots,
    ))


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None
