"""Dedupe state in a real redis-server: the same answers as offline, shared, kept, and bounded by TTLs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from newsmon.stack import Stack
from services.dedupe.cleanup import cleaned_article
from services.dedupe.redis_story_store import RedisStoryStore
from services.dedupe.sketches import Sketcher
from services.dedupe.stories import Judgement, StoryJudge
from services.dedupe.story_store import MemoryStoryStore, StoryStore
from services.fetcher.files import read_articles
from shared.schemas import RawArticle
from tests.unit.dedupe.conftest import COPY_HEADLINES, LABELLED
from tests.unit.dedupe.syndication import syndicated_copy
from tests.waiting import wait_until_async

WEEK = 7 * 24 * 3600


@pytest.fixture
async def redis(stack: Stack) -> AsyncIterator[Redis]:
    client = Redis.from_url(stack.settings.redis)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    """Keys of this test only, apart from the running dedupe service's ``newsmon:dedupe``."""
    return f"newsmon:test-dedupe:{uuid.uuid4().hex}"


def judge_over(store: StoryStore) -> StoryJudge:
    return StoryJudge(store, Sketcher(0.5))


async def judged(judge: StoryJudge, article: RawArticle) -> Judgement:
    return await judge.judge(cleaned_article(article)[0])


def articles(sample_dir: Path) -> list[RawArticle]:
    """The seeds, their syndicated copies, and the labelled set, in the order a stream would bring them."""
    seeds = {path.name[:3]: read_articles(path)[0] for path in sorted(sample_dir.glob("*.txt"))}
    copies = [syndicated_copy(seed, COPY_HEADLINES[number]) for number, seed in seeds.items()]
    return [*seeds.values(), *copies, *(read_articles(path)[0] for path in sorted(LABELLED.glob("*.txt")))]


async def test_redis_store_gives_the_offline_answers(redis: Redis, prefix: str, sample_dir: Path) -> None:
    batch = articles(sample_dir)
    offline = judge_over(MemoryStoryStore())
    shared = judge_over(RedisStoryStore(redis, WEEK, prefix))
    expected = [await judged(offline, article) for article in batch]
    assert [await judged(shared, article) for article in batch] == expected
    seeds_and_copies = expected[:6]
    assert len({judgement.verdict.story_id for judgement in seeds_and_copies}) == 3
    assert [judgement.verdict.story_id for judgement in seeds_and_copies[3:]] == [
        article.article_id for article in batch[:3]
    ]


async def test_state_is_shared_by_workers_and_survives_a_restart(
    stack: Stack, redis: Redis, prefix: str, sample_dir: Path
) -> None:
    seeds = {path.name[:3]: read_articles(path)[0] for path in sorted(sample_dir.glob("*.txt"))}
    first_worker = judge_over(RedisStoryStore(redis, WEEK, prefix))
    await asyncio.gather(*(judged(first_worker, seed) for seed in seeds.values()))

    await redis.script_flush()  # what a Redis restart does to the band script; the data is kept (AOF)
    restarted = Redis.from_url(stack.settings.redis)
    try:
        second_worker = judge_over(RedisStoryStore(restarted, WEEK, prefix))
        copies = [syndicated_copy(seed, COPY_HEADLINES[number]) for number, seed in seeds.items()]
        verdicts = await asyncio.gather(*(judged(second_worker, copy) for copy in copies))
        assert [judgement.verdict.story_id for judgement in verdicts] == [seed.article_id for seed in seeds.values()]
        redelivered = await judged(second_worker, seeds["000"])
        assert (redelivered.verdict.story_id, redelivered.verdict.duplicate_of) == (seeds["000"].article_id, None)
        assert redelivered.outlets == 2
    finally:
        await restarted.aclose()


async def test_every_key_expires_within_the_window(redis: Redis, prefix: str, sample_dir: Path) -> None:
    judge = judge_over(RedisStoryStore(redis, 3600, prefix))
    for article in articles(sample_dir)[:6]:
        await judged(judge, article)
    keys = [key async for key in redis.scan_iter(match=f"{prefix}:*", count=1000)]
    kinds = {key.decode().removeprefix(prefix).split(":")[1] for key in keys}
    assert kinds == {"url", "text", "signature", "band", "verdict", "outlets"}
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.ttl(key)
        ttls = await pipe.execute()
    assert all(0 < ttl <= 3600 for ttl in ttls), "every key has a TTL of at most the window"


async def test_a_story_older_than_the_window_is_forgotten(redis: Redis, prefix: str, sample_dir: Path) -> None:
    seed = read_articles(sample_dir / "002_d327a6ada714b97a.txt")[0]
    judge = judge_over(RedisStoryStore(redis, 1, prefix))
    await judged(judge, seed)

    async def forgotten() -> bool:
        return not [key async for key in redis.scan_iter(match=f"{prefix}:*")] and not await redis.exists(
            f"{prefix}:verdict:{seed.article_id}")

    await wait_until_async(forgotten, 15, "the seed's keys to expire")
    copy = syndicated_copy(seed, COPY_HEADLINES["002"])
    verdict = (await judged(judge, copy)).verdict
    assert (verdict.story_id, verdict.duplicate_of) == (copy.article_id, None)
