"""Articles per second of one dedupe worker (cleanup, MinHash, LSH in a real redis-server, story
decision), beside datasketch's in-memory MinHashLSH doing the same job on the same articles in the
same run (cleanup, the same MinHash, query, Jaccard against the candidates, insert); prints both
and the ratio, plus newsmon's in-process store for scale (the rest is Redis round trips)."""

from __future__ import annotations

import asyncio
import random
import re
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
from services.fetcher.files import read_articles
from shared.article_ids import article_id_for_content
from shared.schemas import RawArticle

REPO = Path(__file__).resolve().parents[2]
SOURCES = [*sorted((REPO / "samples" / "articles").glob("*.txt")),
           *sorted((REPO / "tests" / "unit" / "dedupe" / "labelled").glob("*.txt"))]
ARTICLES = 1500
THRESHOLD = 0.5
WINDOW = 3600


def corpus() -> list[RawArticle]:
    """Distinct stories mixed from the sample sentences, and every fourth article a copy of an earlier one."""
    rng = random.Random(7)
    text = "\n".join(read_articles(path)[0].text for path in SOURCES)
    sentences = sorted({s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 8})
    built: list[RawArticle] = []
    for number in range(ARTICLES):
        if number % 4 == 3:
            paragraphs = built[rng.randrange(len(built))].text.split("\n\n")
            del paragraphs[rng.randrange(1, len(paragraphs))]
            body = "\n\n".join([f"Outlet {number} | World", *paragraphs[1:], f"© 2024 Outlet {number}"])
        else:
            body = "\n\n".join([f"Story {number}", *rng.sample(sentences, 12)])
        built.append(RawArticle(article_id=article_id_for_content(body), text=body, source=f"outlet-{number % 40}"))
    return built


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
    articles = corpus()
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
    print(f"dedupe: newsmon with redis-server {ours:.0f} articles/s per worker, datasketch in-memory MinHashLSH "
          f"{raw:.0f} articles/s, ratio {ours / raw:.2f}; newsmon in-process store {in_process:.0f} articles/s "
          f"({len(articles)} articles, duplicates found: newsmon {our_duplicates}, datasketch {raw_duplicates})")


if __name__ == "__main__":
    main()
