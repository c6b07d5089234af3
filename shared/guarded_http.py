"""httpx clients whose every connection passes the address guard: the fetcher's and the webhooks'.

httpx resolves and connects inside httpcore's network backend, so the guard sits there: the
backend's ``connect_tcp`` resolves the host once through ``AddressGuard``, refuses what it refuses
(``UnsafeAddress``, raised before any socket is opened) and connects to the very address it
checked. No second lookup happens between check and connect, so DNS rebinding cannot slip a
private address in. TLS still verifies the host name (httpcore's ``start_tls`` gets the URL's
host for SNI and the certificate), and the Host header is the URL's.

The clients never follow redirects (each hop is a request of its own, which the caller checks
and reads through its own limits) and read no proxy from the environment: a proxy would make
the connection somewhere the guard never looked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import httpcore
import httpx

from shared.address_guard import AddressGuard

# httpx's own defaults.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to addresses ``guard`` accepted.

    ``network`` opens the sockets (anyio's backend unless a test passes a recording one); it is
    only ever asked for checked IP addresses, never for a host name.
    """

    def __init__(self, guard: AddressGuard, network: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.guard = guard
        self.network = network or httpcore.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """A stream to the first checked address of ``host`` that accepts; ``UnsafeAddress`` if the guard refuses."""
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in await self._resolve(host, port, timeout):
            try:
                return await self.network.connect_tcp(str(address), port, timeout=timeout,
                                                      local_address=local_address, socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None  # AddressGuard.resolve returns at least one address or raises
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: the guarded clients speak TCP only."""
        raise httpcore.ConnectError("a guarded client does not connect to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.network.sleep(seconds)

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        """Checked addresses; a lookup that fails or outlasts the connect timeout is a connection error."""
        try:
            async with asyncio.timeout(timeout):
                return [str(address) for address in await self.guard.resolve(host, port)]
        except TimeoutError as error:  # before OSError: TimeoutError is one
            raise httpcore.ConnectTimeout(f"resolving {host!r} took more than {timeout} s") from error
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host!r}: {error.strerror or error}") from error


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (its error mapping, its streaming) over a ``GuardedBackend``.

    httpx 0.28 has no public way to hand a network backend to its transport (encode/httpx#3749
    proposes one), so the connection pool is replaced after construction; if a future httpx
    builds its pool differently this fails at start instead of quietly running unguarded.
    """

    def __init__(self, guard: AddressGuard, *, network: httpcore.AsyncNetworkBackend | None = None,
                 limits: httpx.Limits = DEFAULT_LIMITS) -> None:
        super().__init__(trust_env=False, limits=limits)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError(f"httpx {httpx.__version__} builds its transport differently; "
                               "newsmon cannot guard its connections with it")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(guard, network),
        )


def guarded_client(
    guard: AddressGuard, *, timeout: httpx.Timeout | float = 5.0, headers: dict[str, str] | None = None,
    network: httpcore.AsyncNetworkBackend | None = None, limits: httpx.Limits = DEFAULT_LIMITS,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` that connects only where ``guard`` allows, follows no redirect, uses no proxy."""
    return httpx.AsyncClient(
        transport=GuardedTransport(guard, network=network, limits=limits), timeout=timeout, headers=headers,
        follow_redirects=False, trust_env=False,
    )
