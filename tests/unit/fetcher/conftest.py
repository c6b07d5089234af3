"""Fixtures of the fetcher tests: one per fake server, each on 127.0.0.1 and gone when the test ends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from hostile_site import HostileSite, Inside, serve_hostile_site, serve_inside

from tests.news_site import NewsSite, serve_news_site


@pytest.fixture
async def news_site() -> AsyncIterator[NewsSite]:
    async with serve_news_site() as site:
        yield site


@pytest.fixture
async def inside() -> AsyncIterator[Inside]:
    async with serve_inside() as listener:
        yield listener


@pytest.fixture
async def hostile_site(inside: Inside) -> AsyncIterator[HostileSite]:
    async with serve_hostile_site(inside) as site:
        yield site


@pytest.fixture
async def bomb_robots_site(inside: Inside) -> AsyncIterator[HostileSite]:
    async with serve_hostile_site(inside, robots_bomb=True) as site:
        yield site
