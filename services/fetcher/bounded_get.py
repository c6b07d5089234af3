"""One GET that a hostile server cannot make expensive: the fetcher's only way to read a URL.

Redirects are followed hop by hop, each hop a request of its own through the guarded client (so
each is checked against the address guard before it connects); a redirect's body is never read.
The final body is read through ``bounded_body`` (decompressed size capped), and the whole of it
(connect, headers, every hop, body) must finish within one deadline, so a server that drips one
byte a second costs ``deadline_s`` and no more.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from services.fetcher.bounded_body import ACCEPT_ENCODING, UnreadableBody, read_bounded
from services.fetcher.errors import SourceError
from services.fetcher.metrics import FETCHED_BYTES
from services.fetcher.urls import web_url
from shared.address_guard import UnsafeAddress

REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})


class FetchError(SourceError):
    """A fetch that failed; ``kind`` is a bounded label (timeout, too_large, robots, ...).

    ``transient`` marks failures that may pass on their own (timeouts, connection errors, 429 and
    5xx, each after the retries; a deadline overrun): the URL is worth trying again on a later poll.
    """

    def __init__(self, url: str, kind: str, detail: str, *, transient: bool = False) -> None:
        super().__init__(f"{url}: {kind}: {detail}", kind)
        self.url = url
        self.detail = detail
        self.transient = transient


class RetryableFetch(Exception):
    """A failure worth another attempt soon (timeout, connection error, 429, 5xx); ``kind`` as in FetchError."""

    def __init__(self, kind: str, detail: str, retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class FetchLimits:
    """What one GET may cost: decoded body bytes, redirect hops, and seconds from start to last byte."""

    max_bytes: int = 5_000_000
    max_redirects: int = 5
    deadline_s: float = 30.0


@dataclass(frozen=True)
class Answer:
    """The final answer to one GET: its URL after redirects, status, headers, and body (None for 304 or an error)."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes | None


async def bounded_get(client: httpx.AsyncClient, url: str, headers: dict[str, str], limits: FetchLimits) -> Answer:
    """GET ``url`` within ``limits``.

    Raises FetchError for what retrying cannot mend (``refused_address``, ``too_large``,
    ``bad_encoding``, ``too_slow``, ``redirects``, ``bad_url``) and RetryableFetch for timeouts and
    connection errors. Any status is an Answer; judging it is the caller's business.
    """
    try:
        async with asyncio.timeout(limits.deadline_s):
            return await _follow(client, url, {"Accept-Encoding": ACCEPT_ENCODING, **headers}, limits)
    except TimeoutError as error:
        raise FetchError(url, "too_slow", f"no complete answer within {limits.deadline_s:g} s",
                         transient=True) from error
    except UnsafeAddress as error:
        raise FetchError(url, "refused_address", str(error)) from error
    except UnreadableBody as error:
        raise FetchError(url, error.kind, str(error)) from error
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
        raise FetchError(url, "bad_url", str(error)) from error
    except httpx.TimeoutException as error:
        raise RetryableFetch("timeout", type(error).__name__) from error
    except httpx.TransportError as error:
        raise RetryableFetch("connection", type(error).__name__) from error


async def _follow(client: httpx.AsyncClient, url: str, headers: dict[str, str], limits: FetchLimits) -> Answer:
    """httpx's own redirect handling reads each redirect's body in full, uncapped: hence hops by hand."""
    current = url
    for _ in range(limits.max_redirects + 1):
        async with client.stream("GET", current, headers=headers, follow_redirects=False) as response:
            location = response.headers.get("location") if response.status_code in REDIRECT_STATUS else None
            if location is None:
                readable = response.status_code < 400 and response.status_code != 304
                return Answer(current, response.status_code, response.headers,
                              await _read(response, limits.max_bytes) if readable else None)
        next_url = web_url(location, current)
        if next_url is None:
            raise FetchError(url, "bad_url", "redirected to a location that is not an http(s) URL")
        current = next_url
    raise FetchError(url, "redirects", f"more than {limits.max_redirects} redirects (a loop?)")


async def _read(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise UnreadableBody("too_large", f"{declared} bytes declared, cap is {max_bytes}")
    content = await read_bounded(response.aiter_raw(), response.headers.get("content-encoding", ""), max_bytes)
    FETCHED_BYTES.inc(len(content))
    return content
