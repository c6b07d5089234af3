"""Where articles are annotated: in a thread beside the event loop, or by worker processes.

spaCy holds the GIL, so one process annotates on one core. ``ThreadEnricher`` keeps faust's event
loop (heartbeats, fetches, acknowledgements) responsive while it works; ``ProcessPoolEnricher``
(``NEWSMON_NER_N_PROCESS`` > 1) keeps that many worker processes, each with its pipeline loaded
once. Both annotate a micro-batch article by article (spaCy is no faster per word on a batch of
16 than on one article, measured on the benchmark corpus) and hand back one future per article,
done as soon as that article is: the service publishes each one then, instead of after the
whole batch. A thread takes the articles in order; worker processes take the next article as
soon as they are free, so a long article holds up one worker, not the batch.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from spacy.language import Language

from services.ner.annotate import enrich
from services.ner.language import identifier
from services.ner.pipeline import ModelNotInstalled, PatternFileError, load_pipeline
from shared.schemas import EnrichedArticle, UniqueArticle
from shared.settings import Settings


@dataclass(frozen=True)
class PipelineConfig:
    """Everything a process needs to build the same pipeline and enrich the same way."""

    model: str
    extra_patterns: Path | None
    batch_size: int
    max_chars: int

    @classmethod
    def from_settings(cls, settings: Settings) -> PipelineConfig:
        return cls(settings.spacy_model, settings.ner_patterns_path, settings.ner_batch_size, settings.ner_max_chars)

    def load(self) -> Language:
        """The spaCy pipeline, with the language model loaded too so no article waits for it."""
        identifier()
        return load_pipeline(self.model, self.extra_patterns)

    def enrich(self, nlp: Language, articles: Sequence[UniqueArticle]) -> list[EnrichedArticle]:
        return enrich(nlp, articles, self.batch_size, self.max_chars)


class Enricher(Protocol):
    """Enriches articles without blocking the event loop."""

    def submit(self, articles: Sequence[UniqueArticle]) -> list[asyncio.Future[EnrichedArticle]]:
        """Start on every article now; one future per article, in input order, each done with its article."""

    def close(self) -> None: ...


async def enrich_all(enricher: Enricher, articles: Sequence[UniqueArticle]) -> list[EnrichedArticle]:
    """Every article enriched, in input order (raises the first article's error)."""
    return list(await asyncio.gather(*enricher.submit(articles)))


class ThreadEnricher:
    """The pipeline in this process, run by one worker thread: one article at a time, in submission order."""

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config
        self.nlp = config.load()
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="ner-pipeline")

    def submit(self, articles: Sequence[UniqueArticle]) -> list[asyncio.Future[EnrichedArticle]]:
        loop = asyncio.get_running_loop()
        return [loop.run_in_executor(self._thread, self._enrich, article) for article in articles]

    def _enrich(self, article: UniqueArticle) -> EnrichedArticle:
        [enriched] = self.config.enrich(self.nlp, [article])
        return enriched

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


# State of one worker process of ProcessPoolEnricher (never used in the service's own process).
_worker_config: PipelineConfig | None = None
_worker_nlp: Language | None = None
_worker_error: Exception | None = None


def _start_worker(config: PipelineConfig) -> None:
    """Load the pipeline once per worker; a configuration error is kept and raised by each task, so
    it reaches the service with its message instead of breaking the pool silently."""
    global _worker_config, _worker_nlp, _worker_error
    _worker_config = config
    try:
        _worker_nlp = config.load()
    except (ModelNotInstalled, PatternFileError) as error:
        _worker_error = error


def _check_worker() -> None:
    """Raise the worker's start-up error, if any."""
    if _worker_error is not None:
        raise _worker_error


def _enrich_in_worker(article: UniqueArticle) -> EnrichedArticle:
    _check_worker()
    assert _worker_config is not None and _worker_nlp is not None, "worker started without _start_worker"
    [enriched] = _worker_config.enrich(_worker_nlp, [article])
    return enriched


class ProcessPoolEnricher:
    """``processes`` worker processes, each with its own pipeline, each taking the next article when free."""

    def __init__(self, config: PipelineConfig, processes: int) -> None:
        # spawn, not fork: the service process runs an event loop and threads that a fork would copy mid-flight.
        self._pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker, initargs=(config,))
        # Start the workers now, so a missing model fails the service at start, not at the first article.
        try:
            for started in [self._pool.submit(_check_worker) for _ in range(processes)]:
                started.result()
        except BaseException:
            self.close()
            raise

    def submit(self, articles: Sequence[UniqueArticle]) -> list[asyncio.Future[EnrichedArticle]]:
        loop = asyncio.get_running_loop()
        return [loop.run_in_executor(self._pool, _enrich_in_worker, article) for article in articles]

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)


def make_enricher(settings: Settings) -> Enricher:
    """The enricher the settings ask for: in-process for ``ner_n_process`` 1, a process pool above."""
    config = PipelineConfig.from_settings(settings)
    if settings.ner_n_process > 1:
        return ProcessPoolEnricher(config, settings.ner_n_process)
    return ThreadEnricher(config)
