"""Webhook URLs: refused when they point inside the network (SSRF), and redacted wherever they are shown.

Rule files are edited by users, so a rule's webhook could otherwise make the alerter call the
cloud metadata service or an internal admin port. The check here runs when a URL is accepted and
before each delivery; the alerter's HTTP client (``webhook_client``) checks again as it connects,
to the address it checked, so a DNS answer that changes in between gets nowhere.

A webhook URL is a credential: chat apps put the token in the path, others in the query string or
the user-info. ``redact_url`` is how every log line, failure record, API answer and CLI line shows one.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import httpx

from shared.address_guard import AddressGuard, Resolver, UnsafeAddress, system_resolver
from shared.guarded_http import guarded_client

REDACTED = "***"
# The token of well-known chat webhooks, by path: Slack /services/T…/B…/<token>, Discord
# /api[/v10]/webhooks/<id>/<token>, Telegram /bot<id>:<token>/<method>.
_PATH_TOKENS = (
    re.compile(r"^(/services/[^/]+/[^/]+/)([^/]+)"),
    re.compile(r"^(/api(?:/v\d+)?/webhooks/[^/]+/)([^/]+)"),
    re.compile(r"^(/bot)(\d+:[^/]+)"),
)
# Any other segment this long that mixes letters and digits is taken for a token (random ids,
# hex or base64 keys); words, dates and short numeric ids stay readable.
_TOKEN_MIN_CHARS = 16


class UnsafeWebhookURL(ValueError):
    """A webhook URL newsmon will not call; the message says why, naming the host only."""


def redact_url(url: str) -> str:
    """The URL as it may be shown: scheme, host, port and path, without user-info, query or fragment,
    and with tokens in the path (chat-app webhook tokens, long random-looking segments) replaced by ``***``."""
    try:
        parts = urlsplit(url.strip())
        netloc = parts.netloc.rpartition("@")[2]
    except ValueError:
        return "<unreadable URL>"
    return urlunsplit((parts.scheme, netloc, _redact_path(parts.path), "", ""))


def _redact_path(path: str) -> str:
    for pattern in _PATH_TOKENS:
        path = pattern.sub(lambda match: match.group(1) + REDACTED, path)
    return "/".join(REDACTED if _looks_like_token(segment) else segment for segment in path.split("/"))


def _looks_like_token(segment: str) -> bool:
    return (len(segment) >= _TOKEN_MIN_CHARS and any(char.isdigit() for char in segment)
            and any(char.isalpha() for char in segment))


def webhook_guard(allow_private: bool, resolver: Resolver = system_resolver) -> AddressGuard:
    """The alerter's address guard: non-public addresses refused unless ``NEWSMON_WEBHOOK_ALLOW_PRIVATE``."""
    return AddressGuard(allow_private, "webhook", "NEWSMON_WEBHOOK_ALLOW_PRIVATE", resolver)


def webhook_client(allow_private: bool) -> httpx.AsyncClient:
    """The alerter's HTTP client: connects only where ``webhook_guard`` allows, follows no redirect, no proxy."""
    return guarded_client(webhook_guard(allow_private))


async def check_webhook_url(url: str, allow_private: bool) -> None:
    """Raise UnsafeWebhookURL unless ``url`` is http(s) to public addresses (or private ones are allowed).

    A host that does not resolve raises ``OSError`` (``socket.gaierror``): DNS failures are often
    transient, so the caller decides whether to retry.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeWebhookURL(f"webhook URL scheme must be http or https, not {scheme or 'missing'!r}")
    host = parts.hostname
    if not host:
        raise UnsafeWebhookURL("webhook URL has no host")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeWebhookURL(f"webhook URL for host {host!r} has an invalid port") from error
    if allow_private:
        return
    try:
        await webhook_guard(allow_private).resolve(host, port)
    except UnsafeAddress as error:
        raise UnsafeWebhookURL(str(error)) from None
