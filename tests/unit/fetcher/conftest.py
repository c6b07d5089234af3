"""Fixtures of the fetcher tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fetcher_news_site import NewsSite, serve_news_site


@pytest.fixture
async def news_site() -> AsyncIterator[NewsSite]:
    async with serve_news_site() as site:
        yield site
