"""What dedupe does with each article, on the in-memory story store: the first of a story goes to
articles.unique, copies to articles.duplicates, an empty article is rejected with its reason, and a
redelivery takes the same route."""

from __future__ import annotations

import pytest

from services.dedupe.deduplicator import EMPTY_AFTER_CLEANUP, Deduplicator
from services.dedupe.sketches import Sketcher
from services.dedupe.stories import StoryJudge
from services.dedupe.story_store import MemoryStoryStore
from shared.failure_policy import Rejected, classify
from shared.schemas import DuplicateArticle, RawArticle, UniqueArticle
from tests.unit.dedupe.conftest import COPY_HEADLINES
from tests.unit.dedupe.syndication import syndicated_copy


class Topics:
    def __init__(self) -> None:
        self.unique: list[UniqueArticle] = []
        self.duplicates: list[DuplicateArticle] = []

    async def send_unique(self, article: UniqueArticle) -> None:
        self.unique.append(article)

    async def send_duplicate(self, article: DuplicateArticle) -> None:
        self.duplicates.append(article)


@pytest.fixture
def topics() -> Topics:
    return Topics()


@pytest.fixture
def deduplicator(topics: Topics) -> Deduplicator:
    return Deduplicator(StoryJudge(MemoryStoryStore(), Sketcher(0.5)), topics.send_unique, topics.send_duplicate)


async def test_the_first_of_a_story_is_unique_and_its_copy_a_duplicate_of_it(
    deduplicator: Deduplicator, topics: Topics, seeds: dict[str, RawArticle]
) -> None:
    seed = seeds["002"]
    await deduplicator.on_article(seed)
    await deduplicator.on_article(syndicated_copy(seed, COPY_HEADLINES["002"]))
    [unique], [copy] = topics.unique, topics.duplicates
    assert unique.article_id == unique.story_id == seed.article_id
    assert copy.story_id == seed.article_id and copy.duplicate_of == seed.article_id and copy.story_outlets == 2


async def test_a_redelivered_article_takes_the_same_route(
    deduplicator: Deduplicator, topics: Topics, seeds: dict[str, RawArticle]
) -> None:
    first = await deduplicator.on_article(seeds["001"])
    again = await deduplicator.on_article(seeds["001"])
    assert first.verdict == again.verdict and first.verdict.duplicate_of is None
    assert [article.article_id for article in topics.unique] == [seeds["001"].article_id] * 2
    assert topics.duplicates == []


async def test_an_article_with_nothing_left_after_cleanup_is_rejected_with_the_reason(
    deduplicator: Deduplicator, topics: Topics
) -> None:
    chrome = RawArticle(article_id="empty-1", text="Subscribe to our newsletter\nShare on Facebook\n", source="t")
    with pytest.raises(Rejected) as rejected:
        await deduplicator.on_article(chrome)
    assert rejected.value.kind == EMPTY_AFTER_CLEANUP and "empty-1" in rejected.value.reason
    assert classify(rejected.value) == "rejected", "the stage dead-letters it, never retries it"
    assert topics.unique == topics.duplicates == []
