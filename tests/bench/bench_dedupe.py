"""Articles per second of one dedupe worker (cleanup, MinHash, LSH in a real redis-server, story
decision), beside datasketch's in-memory MinHashLSH doing the same job on the same articles in the
same run (cleanup, the same MinHash, query, Jaccard against the candidates, insert); prints both,
the ratio with its target (0.5), and newsmon's in-process store for scale (the rest is Redis
round trips). The articles are the benchmark corpus (``corpus.py``), a fifth of them near-duplicates."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from datasketch import MinHashLSH
from redis.asyncio import Redis

from newsmon.embedded import free_port, start_redis
from services.dedupe.cleanup import cleaned_article
from services.dedupe.redis_story_store import RedisStoryStore
from services.dedupe.sketches import NUM_PERM, Sketcher
from services.dedupe.stories import StoryJudge
from services.dedupe.story_store import MemoryStoryStore, StoryStore
from shared.schemas import RawArticle
from tests.bench.corpus import generate

ARTICLES = 1500
THRESHOLD = 0.5
WINDOW = 3600
TARGET = 0.5


async def newsmon_rate(store: StoryStore, articles: list[RawArticle]) -> tuple[float, int]:
    judge = StoryJudge(store, Sketcher(THRESHOLD))
    started = time.perf_counter()
    duplicates = 0
    for article in articles:
        judgement = await judge.judge(cleaned_article(article)[0])
        duplicates += judgement.verdict.is_duplicate
    return len(articles) / (time.perf_counter() - started), duplicates


def datasketch_rate(articles: list[RawArticle]) -> tuple[float, int]:
    sketcher = Sketcher(THRESHOLD)
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    signatures = {}
    started = time.perf_counter()
    duplicates = 0
    for article in articles:
        signature = sketcher.sketch(cleaned_article(article)[0].text).signature
        similar = [key for key in lsh.query(signature) if signature.jaccard(signatures[key]) >= THRESHOLD]
        duplicates += bool(similar)
        lsh.insert(article.article_id, signature)
        signatures[article.article_id] = signature
    return len(articles) / (time.perf_counter() - started), duplicates


async def redis_rate(port: int, articles: list[RawArticle]) -> tuple[float, int]:
    client = Redis.from_url(f"redis://127.0.0.1:{port}/0")
    try:
        return await newsmon_rate(RedisStoryStore(client, WINDOW), articles)
    finally:
        await client.aclose()


def main() -> None:
    generated = generate(ARTICLES)
    articles = [article.as_raw() for article in generated]
    copies = sum(article.copy_of is not None for article in generated)
    asyncio.run(newsmon_rate(MemoryStoryStore(), articles[:100]))  # warm-up: regexes, permutations, caches
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        redis = start_redis(port, Path(folder) / "redis", Path(folder) / "logs")
        try:
            ours, our_duplicates = asyncio.run(redis_rate(port, articles))
        finally:
            redis.stop()
    raw, raw_duplicates = datasketch_rate(articles)
    in_process, _ = asyncio.run(newsmon_rate(MemoryStoryStore(), articles))
    ratio = ours / raw
    print(f"dedupe: newsmon with redis-server {ours:.0f} articles/s per worker, datasketch in-memory MinHashLSH "
          f"{raw:.0f} articles/s, ratio {ratio:.2f} (target >= {TARGET}: {'met' if ratio >= TARGET else 'NOT met'}); "
          f"newsmon in-process store {in_process:.0f} articles/s ({len(articles)} articles, {copies} of them "
          f"near-duplicates; found: newsmon {our_duplicates}, datasketch {raw_duplicates})")


if __name__ == "__main__":
    main()
