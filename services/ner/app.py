"""The ner service: articles.unique -> articles.enriched, spaCy over micro-batches."""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import Counter

from newsmon.services.ner.annotate import enrich, load_pipeline
from newsmon.shared import topics
from newsmon.shared.logs import log_event
from newsmon.shared.schemas import EnrichedArticle, UniqueArticle
from newsmon.shared.settings import get_settings
from newsmon.shared.stream_app import Stage, create_app, publish, raw_topic

ENTITIES = Counter("newsmon_ner_entities_total", "Entity mentions found, by label.", ["label"])
logger = logging.getLogger(__name__)

settings = get_settings()
nlp = load_pipeline(settings.spacy_model)
app = create_app("ner", settings, readiness=[])
unique_articles = raw_topic(app, topics.ARTICLES_UNIQUE)
enriched_articles = raw_topic(app, topics.ARTICLES_ENRICHED, produced_by="ner")
stage: Stage[UniqueArticle] = Stage(app, "ner", topics.ARTICLES_UNIQUE, UniqueArticle)


async def enrich_and_publish(articles: list[UniqueArticle]) -> None:
    """Annotate a batch off the event loop (so heartbeats go on), then publish each result."""
    enriched: list[EnrichedArticle] = await asyncio.to_thread(enrich, nlp, articles, settings.ner_batch_size)
    for article in enriched:
        await publish(enriched_articles, "ner", article.article_id, article)
        for mention in article.mentions:
            ENTITIES.labels(mention.label).inc()
        log_event(logger, "ner.enriched", article_id=article.article_id, story_id=article.story_id,
                  mentions=len(article.mentions))


@app.agent(unique_articles)
async def ner_agent(stream):  # type: ignore[no-untyped-def]
    async for events in stream.take_events(settings.ner_batch_size, within=settings.ner_batch_ms / 1000):
        parsed = [(event, await stage.parse(event.key, event.value)) for event in events]
        batch = [(event, article) for event, article in parsed if article is not None]
        if not batch:
            continue
        articles = [article for _, article in batch]
        # One article that breaks spaCy must not take its batch-mates down with it.
        try:
            await enrich_and_publish(articles)
        except Exception:  # noqa: BLE001 - retried one by one below, failures dead-lettered
            logger.exception("batch failed; retrying its articles one at a time")
            for event, article in batch:
                await stage.handle_parsed(event.key, event.value, article, lambda one: enrich_and_publish([one]))
