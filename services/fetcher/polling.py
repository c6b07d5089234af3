"""One poll of one source, published: what the fetcher service and ``newsmon fetch --once`` both run.

The order is what makes a restart lose nothing and send nothing twice: each article is checked
against what was published before (Redis), sent and acknowledged, then remembered; only after
all of that are the responses' ETag / Last-Modified committed. A crash or broker error anywhere
in between leaves the validators unchanged, so the next poll gets the content again instead of
a 304, and the published check keeps that repeat from sending anything twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis

from services.fetcher.collect import collect
from services.fetcher.errors import SourceError
from services.fetcher.files import PublishedFiles
from services.fetcher.metrics import LAST_ARTICLE, LAST_SUCCESS, SKIPPED, SOURCE_ERRORS
from services.fetcher.polite_http import PoliteClient
from services.fetcher.published import SourceFreshness, is_new_version, remember
from services.fetcher.skips import skip
from services.fetcher.sources import Source
from shared import metrics
from shared.failure_policy import as_rejected, classify, describe_error, retry_transient
from shared.logs import log_event
from shared.schemas import RawArticle

Send = Callable[[RawArticle], Awaitable[None]]
T = TypeVar("T")

logger = logging.getLogger(__name__)


def source_label(source: Source) -> str:
    """How metrics and logs name a source: its URL, or its name for files."""
    return source.url or source.name


async def poll(source: Source, http: PoliteClient, redis: Redis, send: Send, ttl_seconds: int,
               wait_out_outages: bool = False, published: PublishedFiles | None = None,
               freshness: SourceFreshness | None = None) -> int | None:
    """Publish the new or updated articles of ``source`` through ``send``; how many, or None when the poll failed.

    Never raises: see ``isolated``. ``send`` must return only once the broker acknowledged the article.
    With ``wait_out_outages`` (the service), a Redis or broker outage is waited out: the poll starts
    over with capped backoff until the dependency is back, instead of failing until the next interval.
    With ``published`` (the service's poll loop of a files source), files unchanged since a poll
    published them are not read again, and this poll's files are remembered once it has published.
    ``freshness``, kept by the same loop, saves reading the source's newest time from Redis on every poll.
    """
    source_freshness = freshness or SourceFreshness(source_label(source))

    def attempt() -> Awaitable[int]:
        return _publish_new(source, http, redis, send, ttl_seconds, published, source_freshness)

    if wait_out_outages:
        return await isolated(source, retry_transient(attempt, "poll", source=source_label(source)))
    return await isolated(source, attempt())


async def isolated(source: Source, work: Awaitable[T]) -> T | None:
    """``await work``; if it fails, whatever the exception, log and count it and return None.

    One source must never stop the fetcher: its failure is logged as ``fetch.source_failed`` with
    the source and the reason (the traceback too when it is not a SourceError), counted in
    ``newsmon_source_consecutive_errors`` and in ``newsmon_fetch_skipped_total`` by kind, and
    the next poll starts over. Nothing is lost meanwhile: validators were not committed. A Redis
    or broker outage is not the source's fault: it is logged as ``fetch.source_waiting`` and
    counted in ``newsmon_transient_errors_total``, not against the source.
    """
    label = source_label(source)
    try:
        return await work
    except SourceError as error:  # collect() already counted it by kind
        SOURCE_ERRORS.labels(label).inc()
        log_event(logger, "fetch.source_failed", logging.WARNING, source=label, kind=error.kind, reason=str(error))
    except Exception as error:
        if classify(error) == "transient":
            metrics.TRANSIENT_ERRORS.labels("fetcher").inc()
            log_event(logger, "fetch.source_waiting", logging.WARNING, source=label, reason=describe_error(error))
            return None
        SOURCE_ERRORS.labels(label).inc()
        SKIPPED.labels("poll_failed").inc()
        logger.error("fetch.source_failed", exc_info=error, extra={"fields": {
            "source": label, "kind": "poll_failed", "reason": f"{type(error).__name__}: {error}"}})
    return None


async def _publish_new(source: Source, http: PoliteClient, redis: Redis, send: Send, ttl_seconds: int,
                       published_files: PublishedFiles | None, freshness: SourceFreshness) -> int:
    label = source_label(source)
    collected = await collect(source, http, published_files)
    published = []
    for article in collected.articles:
        if await is_new_version(redis, article):
            try:
                await send(article)
            except Exception as error:
                if (rejected := as_rejected(error)) is None:
                    raise
                # Too large for the broker, now and on every retry: skipped, and tried again only
                # if the article changes (the page's validators are committed below).
                skip(article.url or label, rejected.kind, rejected.reason)
                continue
            await remember(redis, article, ttl_seconds)
            log_event(logger, "fetch.published", article_id=article.article_id, url=article.url, source=label)
            published.append(article)
    await http.commit(collected.pages)
    if published_files is not None:
        published_files.remember(collected.files)
    SOURCE_ERRORS.labels(label).set(0)
    LAST_SUCCESS.labels(label).set_to_current_time()
    metrics.LAST_ACTIVITY.labels("fetcher").set_to_current_time()
    newest = await freshness.update(redis, newest_publication(published))
    if newest is not None:
        LAST_ARTICLE.labels(label).set(newest)
    return len(published)


def newest_publication(published: list[RawArticle]) -> float | None:
    """The newest publication time among articles just published, each clamped to its fetch time.

    An article cannot be newer than the moment we fetched it, so a future date (a wrong time zone,
    a typo) never pins the source's freshness at a time to come. An undated article counts as of
    its fetch, but only in the poll that publishes it: an old undated item that the feed keeps
    listing is not "fresh" again on every poll.
    """
    return max((min(article.published_at or article.fetched_at, article.fetched_at).timestamp()
                for article in published), default=None)
