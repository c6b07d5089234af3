"""Refusing webhook URLs that point inside the network (SSRF), unless the settings allow it.

Rule files are edited by users, so a rule's webhook could otherwise make the alerter call the
cloud metadata service or an internal admin port. Messages name the host only: URLs often carry
tokens in their query string or user-info, and those must never reach a log.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeWebhookURL(ValueError):
    """A webhook URL newsmon will not call; the message says why."""


def redact_url(url: str) -> str:
    """The URL without user-info, query string or fragment, for logs and failure records."""
    parts = urlsplit(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _internal_kind(address: IPAddress) -> str | None:
    """Which kind of non-public address this is, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-public"


async def _resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host stands for; a literal IP is taken as is, without DNS."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # Strip an IPv6 zone ("fe80::1%eth0"), which ip_address does not parse on every version.
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


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
    for address in await _resolve(host, port):
        kind = _internal_kind(address)
        if kind is not None:
            raise UnsafeWebhookURL(
                f"webhook host {host!r} resolves to {address}, a {kind} address; "
                "set NEWSMON_WEBHOOK_ALLOW_PRIVATE=true to allow it"
            )
