"""Fixtures of the dedupe unit tests: the seeds, and a judge over an in-process store."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.dedupe.cleanup import cleaned_article
from services.dedupe.sketches import Sketcher
from services.dedupe.stories import Judgement, StoryJudge
from services.dedupe.story_store import MemoryStoryStore
from services.fetcher.files import read_articles
from shared.schemas import RawArticle
from shared.settings import Settings

LABELLED = Path(__file__).with_name("labelled")
# A new headline for each seed's syndicated copy.
COPY_HEADLINES = {
    "000": "Allies press G7 for more air defenses for Kyiv and tougher Iran sanctions",
    "001": "Blinken urges G7 unity on Gaza as ministers meet in Tokyo",
    "002": "Blinken heads back to Israel as rift over Rafah offensive deepens",
}


@pytest.fixture
def seeds(sample_dir: Path) -> dict[str, RawArticle]:
    """The three seed articles by their number: 000, 001, 002."""
    return {path.name[:3]: read_articles(path)[0] for path in sorted(sample_dir.glob("*.txt"))}


@pytest.fixture
def store() -> MemoryStoryStore:
    return MemoryStoryStore()


@pytest.fixture
def judge(store: MemoryStoryStore) -> StoryJudge:
    return StoryJudge(store, Sketcher(Settings(_env_file=None).dedupe_similarity_threshold))


async def judged(judge: StoryJudge, article: RawArticle) -> Judgement:
    """What the service does with a raw article: clean it, then judge it."""
    cleaned, _ = cleaned_article(article)
    return await judge.judge(cleaned)
