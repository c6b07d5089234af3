"""Links found in feeds, sitemaps and pages, checked before anything is fetched or hashed."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit


def web_url(link: str, base: str | None = None) -> str | None:
    """``link`` made absolute against ``base`` when it is an http(s) URL a fetcher can request, else None.

    Feeds and pages carry links that urllib cannot even parse (``http://[bad``, a port out of
    range) or that lead nowhere (``mailto:``, ``javascript:``); callers skip those instead of crashing.
    """
    try:
        resolved = urljoin(base or "", link.strip())
        parts = urlsplit(resolved)
        has_valid_port = parts.port is None or parts.port > 0  # .port raises ValueError when out of range
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or not has_valid_port:
        return None
    return resolved
