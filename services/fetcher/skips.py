"""Items and sources the fetcher leaves out: each logged with where and why, and counted by kind."""

from __future__ import annotations

import logging

from services.fetcher.metrics import SKIPPED
from services.fetcher.urls import web_url
from shared.logs import log_event

logger = logging.getLogger(__name__)


def skip(where: str, reason: str, detail: str) -> None:
    """Count and log one skipped item; ``reason`` is a bounded label, ``detail`` the readable why."""
    SKIPPED.labels(reason).inc()
    log_event(logger, "fetch.item_skipped", logging.WARNING, url=where, reason=reason, detail=detail)


def listed_url(link: str, listing: str, what: str) -> str | None:
    """A link from a feed or sitemap made absolute, or None: blank links are passed over, and links that
    are not http(s) URLs are skipped as ``bad_url`` ("<what> is not an http(s) URL")."""
    if not link.strip():
        return None
    url = web_url(link, listing)
    if url is None:
        skip(link.strip(), "bad_url", f"{what} is not an http(s) URL")
    return url
