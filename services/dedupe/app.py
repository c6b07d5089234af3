"""The dedupe service: articles.raw -> articles.unique, dropping exact duplicates."""

from __future__ import annotations

import logging

from prometheus_client import Counter

from newsmon.services.dedupe.claims import claim
from newsmon.services.dedupe.fingerprint import fingerprints, first_of_story
from newsmon.shared import topics
from newsmon.shared.logs import log_event
from newsmon.shared.redis_client import connect
from newsmon.shared.schemas import RawArticle
from newsmon.shared.settings import get_settings
from newsmon.shared.stream_app import Stage, create_app, publish, raw_topic

OUTCOMES = Counter("newsmon_dedupe_outcomes_total", "Dedupe verdicts.", ["outcome", "matched_on"])
logger = logging.getLogger(__name__)

settings = get_settings()
redis = connect(settings)


async def redis_reachable() -> bool:
    return bool(await redis.ping())


app = create_app("dedupe", settings, readiness=[redis_reachable])
raw_articles = raw_topic(app, topics.ARTICLES_RAW)
unique_articles = raw_topic(app, topics.ARTICLES_UNIQUE, produced_by="dedupe")
stage: Stage[RawArticle] = Stage(app, "dedupe", topics.ARTICLES_RAW, RawArticle)


async def deduplicate(article: RawArticle) -> None:
    """Forward the first copy of an article; a redelivered first copy is forwarded again, unchanged."""
    verdict = await claim(redis, article.article_id, fingerprints(article), settings.dedupe_ttl_seconds)
    if verdict.is_duplicate:
        OUTCOMES.labels("duplicate", verdict.matched_on or "").inc()
        log_event(logger, "dedupe.duplicate", article_id=article.article_id, duplicate_of=verdict.duplicate_of,
                  matched_on=verdict.matched_on)
        return
    unique = first_of_story(article)
    await publish(unique_articles, "dedupe", article.article_id, unique)
    OUTCOMES.labels("unique", "").inc()
    log_event(logger, "dedupe.unique", article_id=article.article_id, story_id=unique.story_id)


@app.agent(raw_articles)
async def dedupe_agent(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        await stage.run(event.key, event.value, deduplicate)
