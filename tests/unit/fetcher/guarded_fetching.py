"""The fetcher's polite client as production builds it (guarded, bounded), with test timings and a pretend network."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpcore
import httpx

from services.fetcher.polite_http import MemoryValidatorStore, PoliteClient, Politeness, fetch_guard
from shared.address_guard import Resolver, system_resolver
from shared.guarded_http import DEFAULT_LIMITS, guarded_client
from shared.settings import Settings

LOCAL = Politeness(per_host_interval_s=0.0, max_retries=0, deadline_s=5.0)
# Every request on a connection of its own, so each one looks its host up again.
NO_KEEPALIVE = httpx.Limits(max_connections=10, max_keepalive_connections=0)


@asynccontextmanager
async def polite(
    politeness: Politeness = LOCAL, *, allow_private: bool = True, resolver: Resolver = system_resolver,
    network: httpcore.AsyncNetworkBackend | None = None, limits: httpx.Limits = DEFAULT_LIMITS, timeout_s: float = 5.0,
) -> AsyncIterator[PoliteClient]:
    """A PoliteClient over the guarded client; ``allow_private`` as NEWSMON_FETCH_ALLOW_PRIVATE (on for 127.0.0.1)."""
    guard = fetch_guard(Settings(_env_file=None, fetch_allow_private=allow_private), resolver)
    async with guarded_client(guard, timeout=timeout_s, headers={"User-Agent": "newsmon-test"}, network=network,
                              limits=limits) as http:
        yield PoliteClient(http, MemoryValidatorStore(), politeness)
