"""The dedupe service: articles.raw -> cleaned, judged -> articles.unique or articles.duplicates.

The first article of a story goes to ``articles.unique``; later copies (exact or near duplicates
within the window) go to ``articles.duplicates`` with ``duplicate_of``, ``similarity`` and the
story's outlet count. An article with no text left after cleanup is dead-lettered with the reason.
"""

from __future__ import annotations

import logging

from services.dedupe.cleanup import EmptyArticle, cleaned_article
from services.dedupe.metrics import OUTCOMES, REMOVED_LINES, STORY_OUTLETS
from services.dedupe.redis_story_store import RedisStoryStore
from services.dedupe.sketches import Sketcher
from services.dedupe.stories import StoryJudge, story_message
from shared import topics
from shared.logs import log_event
from shared.redis_client import connect
from shared.schemas import RawArticle
from shared.settings import get_settings
from shared.stream_app import Stage, create_app, publish, raw_topic

logger = logging.getLogger(__name__)

settings = get_settings()
redis = connect(settings)
judge = StoryJudge(RedisStoryStore(redis, settings.dedupe_ttl_seconds), Sketcher(settings.dedupe_similarity_threshold))


async def redis_reachable() -> bool:
    return bool(await redis.ping())


app = create_app("dedupe", settings, readiness=[redis_reachable])
raw_articles = raw_topic(app, topics.ARTICLES_RAW)
unique_articles = raw_topic(app, topics.ARTICLES_UNIQUE, produced_by="dedupe")
duplicate_articles = raw_topic(app, topics.ARTICLES_DUPLICATES, produced_by="dedupe")
stage: Stage[RawArticle] = Stage(app, "dedupe", topics.ARTICLES_RAW, RawArticle,
                               dead_letter_kinds=("empty_after_cleanup",))


async def deduplicate(cleaned: RawArticle) -> None:
    """Publish a cleaned article where its verdict sends it; a redelivery gets the same verdict."""
    judgement = await judge.judge(cleaned)
    message = story_message(cleaned, judgement)
    verdict = judgement.verdict
    if verdict.is_duplicate:
        await publish(duplicate_articles, "dedupe", cleaned.article_id, message)
        OUTCOMES.labels("duplicate", verdict.matched_on or "").inc()
        STORY_OUTLETS.observe(judgement.outlets)
        log_event(logger, "dedupe.duplicate", article_id=cleaned.article_id, story_id=verdict.story_id,
                  duplicate_of=verdict.duplicate_of, similarity=verdict.similarity, matched_on=verdict.matched_on,
                  story_outlets=judgement.outlets)
        return
    await publish(unique_articles, "dedupe", cleaned.article_id, message)
    OUTCOMES.labels("unique", "").inc()
    log_event(logger, "dedupe.unique", article_id=cleaned.article_id, story_id=verdict.story_id)


@app.agent(raw_articles)
async def dedupe_agent(stream):  # type: ignore[no-untyped-def]
    async for event in stream.events():
        article = await stage.parse(event.key, event.value)
        if article is None:
            continue
        try:
            cleaned, cleanup = cleaned_article(article)
        except EmptyArticle as error:
            await stage.dead_letter(event.key, event.value, "empty_after_cleanup", str(error))
            continue
        REMOVED_LINES.labels("repeated").inc(cleanup.repeated_lines)
        REMOVED_LINES.labels("boilerplate").inc(cleanup.boilerplate_lines)
        await stage.handle_parsed(event.key, event.value, cleaned, deduplicate)
