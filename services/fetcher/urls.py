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


def site_host(url: str) -> str | None:
    """The host that names ``url``'s site: lower-cased, without a trailing dot or a leading ``www.``."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".").removeprefix("www.") if host else None


def same_site(url: str, other: str) -> bool:
    """True when both URLs are on one site: the same host, case, a trailing dot and a leading ``www.`` aside.

    Scheme and port do not matter (a canonical link often moves http to https). Any other
    subdomain is another site, ``m.`` and ``amp.`` included: telling a site's own subdomains from
    other tenants of a shared domain (``blogspot.com``, ``github.io``) would need the public suffix list.
    """
    host = site_host(url)
    return host is not None and host == site_host(other)
