"""The ner service: articles.unique -> articles.enriched, spaCy over micro-batches.

A batch closes at ``NEWSMON_NER_BATCH_SIZE`` articles, as soon as no article has arrived for
``NEWSMON_NER_BATCH_IDLE_S``, or ``NEWSMON_NER_BATCH_WAIT_S`` after it started, whichever comes
first (``batching.idle_batches``): a quiet input is not waited on, a busy one fills batches.
Messages that do not parse (wrong ``schema_version``, missing fields) are dead-lettered by
``Stage`` before the batch is formed. A batch's input offsets are acknowledged only after the
broker has acknowledged all of its outputs. ``create_service`` loads the pipeline
(``workers.make_enricher``) when the service starts, never at import.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import faust

from services.ner import metrics
from services.ner.batching import idle_batches
from services.ner.workers import Enricher, make_enricher
from shared import metrics as shared_metrics
from shared import topics
from shared.logs import log_event
from shared.metrics import seconds_since
from shared.schemas import EnrichedArticle, UniqueArticle
from shared.settings import Settings
from shared.stream_app import Stage, create_app, publish, raw_topic

logger = logging.getLogger(__name__)


def create_service(settings: Settings) -> faust.App:
    """The ner faust app, wired from ``settings``; raises ``ModelNotInstalled`` for a missing model."""
    enricher = make_enricher(settings)
    app = create_app("ner", settings, readiness=[])
    unique_articles = raw_topic(app, topics.ARTICLES_UNIQUE)
    enriched_articles = raw_topic(app, topics.ARTICLES_ENRICHED, produced_by="ner")
    stage: Stage[UniqueArticle] = Stage(app, "ner", topics.ARTICLES_UNIQUE, UniqueArticle)

    async def enrich_and_publish(articles: list[UniqueArticle]) -> None:
        await enrich_batch(enricher, articles, lambda article: publish(
            enriched_articles, "ner", article.article_id, article))

    @app.on_before_shutdown.connect
    async def close_enricher(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        enricher.close()

    @app.agent(unique_articles, name="ner")
    async def ner_agent(stream: faust.StreamT[bytes]) -> None:
        stream.enable_acks = False  # acknowledged below, once the batch's outputs are stored
        batches = idle_batches(aiter(stream.events()), settings.ner_batch_size, settings.ner_batch_idle_s,
                               settings.ner_batch_wait_s)
        async for events in batches:
            for event in events:
                metrics.INPUT_WAIT.observe(seconds_since(event.message.timestamp))
            await handle_batch(events)
            for event in events:
                await stream.ack(event)

    async def handle_batch(events: list[faust.EventT[bytes]]) -> None:
        parsed = [(event, await stage.parse(event.key, event.value)) for event in events]
        batch = [(event, article) for event, article in parsed if article is not None]
        if not batch:
            return
        # One article that breaks spaCy must not take its batch-mates down with it.
        try:
            with shared_metrics.PROCESSING_SECONDS.labels("ner").time():
                await enrich_and_publish([article for _, article in batch])
        except Exception:  # retried one by one below, under the stage's failure policy
            logger.exception("batch failed; retrying its articles one at a time")
            for event, article in batch:
                await stage.handle_parsed(event.key, event.value, article, lambda one: enrich_and_publish([one]))

    return app


async def enrich_batch(enricher: Enricher, articles: list[UniqueArticle],
                       send: Callable[[EnrichedArticle], Awaitable[None]]) -> list[EnrichedArticle]:
    """Annotate a batch off the event loop, then publish every result and wait for all the acks."""
    metrics.BATCH_ARTICLES.observe(len(articles))
    enriched = await enricher.enrich(articles)
    await asyncio.gather(*(send(article) for article in enriched))
    for article in enriched:
        record(article)
    return enriched


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
