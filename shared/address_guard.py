"""Which addresses newsmon may connect to: the check behind every outbound URL (SSRF guard).

Feeds link to whatever they like and users type webhook URLs, so without a guard a feed could make
the fetcher read the cloud metadata service (169.254.169.254) or an admin port on loopback, and a
webhook could do the same from the alerter. ``AddressGuard.resolve`` resolves a host once and
refuses it when any of its addresses is not globally reachable, unless the guard allows private
addresses. ``shared.guarded_http`` calls it as the connection is made and connects to the address
it checked, so an answer that changes between check and connect (DNS rebinding) gets nowhere.

Refusals name the host and the address, never the URL: URLs carry tokens.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Given a host name and a port, the addresses it stands for, as text (what getaddrinfo answers).
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_INTERNAL_KINDS = ("unspecified", "loopback", "link_local", "multicast", "private", "reserved")


class UnsafeAddress(ValueError):
    """A host newsmon will not connect to; the message names the host, the address, its kind and the setting."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the operating system's resolver (``getaddrinfo``), in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def internal_kind(address: IPAddress) -> str | None:
    """Which kind of non-public address this is (``loopback``, ``private``, ``link-local``...), None for a public one.

    An IPv6 address that carries an IPv4 one (mapped ``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``,
    6to4 ``2002::/16``, Teredo) is judged first by that IPv4 address, which is where it leads.
    """
    for candidate in (*_embedded_ipv4(address), address):
        for kind in _INTERNAL_KINDS:
            if getattr(candidate, f"is_{kind}"):
                return kind.replace("_", "-")
        if not candidate.is_global:
            return "non-public"
    return None


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    if isinstance(address, ipaddress.IPv4Address):
        return []
    embedded = [address.ipv4_mapped, address.sixtofour, address.teredo[1] if address.teredo else None]
    if address in _NAT64:
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [candidate for candidate in embedded if candidate is not None]


def literal_address(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one (an IPv6 zone such as ``%eth0`` dropped), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


@dataclass(frozen=True)
class AddressGuard:
    """Resolves hosts and refuses non-public addresses, unless ``allow_private``.

    ``purpose`` (``fetch``, ``webhook``) and ``allow_setting`` (the variable that allows private
    addresses) only word the refusal so users know what was refused and how to allow it.
    ``resolver`` is the system's unless a test gives a fake one.
    """

    allow_private: bool
    purpose: str
    allow_setting: str
    resolver: Resolver = system_resolver

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """The addresses to connect to for ``host``, each one checked, in the resolver's order, without repeats.

        A literal IP is taken as is, without DNS. Raises ``UnsafeAddress`` when any address is not
        public and private ones are not allowed (one bad answer is enough: the others would be a
        coin toss), and ``OSError`` (``socket.gaierror``) when the host does not resolve.
        """
        literal = literal_address(host)
        if literal is not None:
            addresses = [literal]
        else:
            answers = await self.resolver(host, port)
            addresses = list(dict.fromkeys(filter(None, map(literal_address, answers))))
            if not addresses:
                raise socket.gaierror(socket.EAI_NONAME, f"no usable address for {host!r}")
        if not self.allow_private:
            for address in addresses:
                self._check(host, address)
        return addresses

    def _check(self, host: str, address: IPAddress) -> None:
        kind = internal_kind(address)
        if kind is None:
            return
        article = "an" if kind[0] in "aeiou" else "a"
        raise UnsafeAddress(f"{self.purpose} host {host!r} resolves to {address}, {article} {kind} address; "
                            f"set {self.allow_setting}=true to allow it")
