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
import time
from collections.abc import Awaitable
from functools import partial
from typing import Any

import faust

from services.ner import metrics
from services.ner.batching import idle_batches
from services.ner.pipelining import OrderedPipeline
from services.ner.workers import make_enricher
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

    async def send(article: EnrichedArticle) -> None:
        await publish(enriched_articles, "ner", article.article_id, article)

    @app.on_before_shutdown.connect
    async def close_enricher(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        enricher.close()

    @app.agent(unique_articles, name="ner")
    async def ner_agent(stream: faust.StreamT[bytes]) -> None:
        stream.enable_acks = False  # acknowledged in handle_batch, once the batch's outputs are stored
        # One batch more than there are worker processes: each process starts its next batch while the
        # one before is published, never idling for the broker's acknowledgement.
        in_flight = OrderedPipeline(depth=enricher.processes + 1)
        try:
            async for events in idle_batches(aiter(stream.events()), settings.ner_batch_size,
                                             settings.ner_batch_idle_s, settings.ner_batch_wait_s):
                for event in events:
                    metrics.INPUT_WAIT.observe(seconds_since(event.message.timestamp))
                await in_flight.submit(partial(handle_batch, stream, events))
            await in_flight.drain()
        finally:
            in_flight.cancel()

    async def handle_batch(stream: faust.StreamT[bytes], events: list[faust.EventT[bytes]],
                           turn: Awaitable[None]) -> None:
        """Annotate at once; once the batch before is done, publish, then acknowledge the inputs.

        A full batch is annotated in one pass, the fastest per word under load. A smaller one (a
        burst, a quiet input) goes article by article, each published as soon as it is done and
        in order, so the first article of a burst does not wait for the last. One article that
        breaks spaCy, or a failed send, must not take its batch-mates down with it: its part is
        then redone one article at a time, under the stage's failure policy.
        """
        parsed = [(event, await stage.parse(event.key, event.value)) for event in events]
        batch = [(event, article) for event, article in parsed if article is not None]
        started = time.perf_counter()
        parts = [batch] if len(batch) >= settings.ner_batch_size else [[one] for one in batch]
        annotating = [asyncio.ensure_future(enrich_part(part)) for part in parts]
        await turn
        for part, annotated in zip(parts, annotating, strict=True):
            enriched = await annotated
            if enriched is not None and await publish_whole(enriched):
                for result in enriched:
                    record(result)
            else:
                for event, article in part:
                    await stage.handle_parsed(event.key, event.value, article, enrich_one)
        if batch:
            metrics.BATCH_ARTICLES.observe(len(batch))
            shared_metrics.PROCESSING_SECONDS.labels("ner").observe(time.perf_counter() - started)
        for event in events:
            await stream.ack(event)

    async def enrich_part(part: list[tuple[faust.EventT[bytes], UniqueArticle]]) -> list[EnrichedArticle] | None:
        try:
            return await enricher.enrich([article for _, article in part])
        except Exception:
            logger.exception("annotation failed; retrying the articles one at a time")
            return None

    async def publish_whole(enriched: list[EnrichedArticle]) -> bool:
        try:
            await asyncio.gather(*(send(result) for result in enriched))
            return True
        except Exception:
            logger.exception("publishing the batch failed; retrying its articles one at a time")
            return False

    async def enrich_one(article: UniqueArticle) -> None:
        for result in await enricher.enrich([article]):
            await send(result)
            record(result)

    return app


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
