"""The ner service: articles.unique -> articles.enriched, spaCy over micro-batches.

A batch is flushed at ``NEWSMON_NER_BATCH_SIZE`` articles or ``NEWSMON_NER_BATCH_MS`` milliseconds,
whichever comes first; messages that do not parse (wrong ``schema_version``, missing fields) are
dead-lettered by ``Stage`` before the batch is formed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from services.ner import metrics
from services.ner.workers import make_enricher
from shared import metrics as shared_metrics
from shared import topics
from shared.logs import log_event
from shared.schemas import EnrichedArticle, UniqueArticle
from shared.settings import get_settings
from shared.stream_app import Stage, create_app, publish, raw_topic

logger = logging.getLogger(__name__)

settings = get_settings()
enricher = make_enricher(settings)
app = create_app("ner", settings, readiness=[])
unique_articles = raw_topic(app, topics.ARTICLES_UNIQUE)
enriched_articles = raw_topic(app, topics.ARTICLES_ENRICHED, produced_by="ner")
stage: Stage[UniqueArticle] = Stage(app, "ner", topics.ARTICLES_UNIQUE, UniqueArticle)


async def enrich_and_publish(articles: list[UniqueArticle]) -> None:
    """Annotate a batch off the event loop, then publish every result and wait for all the acks."""
    metrics.BATCH_ARTICLES.observe(len(articles))
    enriched = await enricher.enrich(articles)
    await asyncio.gather(*(publish(enriched_articles, "ner", article.article_id, article) for article in enriched))
    for article in enriched:
        record(article)


def record(article: EnrichedArticle) -> None:
    """Metrics and one log line per enriched article."""
    metrics.ARTICLES.labels(article.ner_mode).inc()
    if article.text_truncated:
        metrics.TRUNCATED.inc()
    for mention in article.mentions:
        metrics.ENTITIES.labels(mention.label).inc()
    log_event(logger, "ner.enriched", article_id=article.article_id, story_id=article.story_id,
              language=article.language, ner_mode=article.ner_mode, mentions=len(article.mentions),
              truncated=article.text_truncated, ner_ms=article.ner_ms)


@app.on_before_shutdown.connect
async def close_enricher(app: Any, **kwargs: Any) -> None:
    enricher.close()


@app.agent(unique_articles)
async def ner_agent(stream):  # type: ignore[no-untyped-def]
    async for events in stream.take_events(settings.ner_batch_size, within=settings.ner_batch_ms / 1000):
        parsed = [(event, await stage.parse(event.key, event.value)) for event in events]
        batch = [(event, article) for event, article in parsed if article is not None]
        if not batch:
            continue
        # One article that breaks spaCy must not take its batch-mates down with it.
        try:
            with shared_metrics.PROCESSING_SECONDS.labels("ner").time():
                await enrich_and_publish([article for _, article in batch])
        except Exception:  # noqa: BLE001 - retried one by one below, failures dead-lettered
            logger.exception("batch failed; retrying its articles one at a time")
            for event, article in batch:
                await stage.handle_parsed(event.key, event.value, article, lambda one: enrich_and_publish([one]))
