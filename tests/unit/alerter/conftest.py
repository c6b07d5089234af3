"""Fixtures of the alerter's unit tests: articles enriched by the real ner core (lemmas, mentions)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from itertools import count

import pytest

from newsmon.offline import OfflineNer
from shared.schemas import EnrichedArticle, RawArticle
from shared.settings import get_settings

Enrich = Callable[..., EnrichedArticle]
PUBLISHED = datetime(2024, 5, 14, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def enrich() -> Enrich:
    """``enrich(text, published=...)``: the article as the ner stage would publish it (the pipeline loads once)."""
    numbers = count()
    ner = OfflineNer(get_settings())

    def enriched(text: str, published: datetime = PUBLISHED) -> EnrichedArticle:
        article = RawArticle(article_id=f"a{next(numbers)}", text=text, source="test", published_at=published)
        [result] = ner.enrich([article])
        return result

    return enriched
