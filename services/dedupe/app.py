"""The dedupe service: articles.raw -> cleaned, judged -> articles.unique or articles.duplicates.

``create_service`` builds the parts (``bootstrap``) and declares the topics and the agent; what
happens to each article is ``deduplicator.Deduplicator``.
"""

from __future__ import annotations

import faust

from services.dedupe.bootstrap import bootstrap
from services.dedupe.deduplicator import EMPTY_AFTER_CLEANUP, Deduplicator
from services.dedupe.metrics import INPUT_WAIT
from shared import topics
from shared.metrics import seconds_since
from shared.schemas import DuplicateArticle, RawArticle, UniqueArticle
from shared.settings import Settings
from shared.stream_app import Stage, create_app, publish, raw_topic


def create_service(settings: Settings) -> faust.App:
    """The dedupe faust app, wired from ``settings``."""
    parts = bootstrap(settings)
    app = create_app("dedupe", settings, readiness=[parts.redis_reachable])
    raw_articles = raw_topic(app, topics.ARTICLES_RAW)
    unique_articles = raw_topic(app, topics.ARTICLES_UNIQUE, produced_by="dedupe")
    duplicate_articles = raw_topic(app, topics.ARTICLES_DUPLICATES, produced_by="dedupe")
    stage: Stage[RawArticle] = Stage(app, "dedupe", topics.ARTICLES_RAW, RawArticle,
                                     dead_letter_kinds=(EMPTY_AFTER_CLEANUP,))

    async def send_unique(article: UniqueArticle) -> None:
        await publish(unique_articles, "dedupe", article.article_id, article)

    async def send_duplicate(article: DuplicateArticle) -> None:
        await publish(duplicate_articles, "dedupe", article.article_id, article)

    deduplicator = Deduplicator(parts.judge, send_unique, send_duplicate)

    @app.agent(raw_articles, name="dedupe")
    async def dedupe_agent(stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            INPUT_WAIT.observe(seconds_since(event.message.timestamp))
            await stage.run(event.key, event.value, deduplicator.on_article)

    return app
