"""Where a micro-batch is annotated: in worker processes, with the rest of the work beside the event loop.

spaCy holds the GIL, so a thread running it in the service's own process competes with faust's
event loop (fetching, decoding, publishing) and with everything else done per article. Instead
``NEWSMON_NER_N_PROCESS`` worker processes (one by default on a single core, one per usable core
above) each load the pipelines once and only annotate (``annotate.annotate``: ``nlp.pipe`` and
what is read off each doc); the service's process, on another core when there is one, identifies
languages before (``annotate.plan``) and builds the enriched articles after (``annotate.finish``),
in a thread beside its event loop. Each batch is split among the workers by text length, and the
enriched articles come back in input order. Workers annotate at a lower priority
(``ANNOTATION_NICENESS``) than every other process of the stack, and keep the memory a batch frees
for the next one until they are idle (``worker_heap.py``).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from spacy.language import Language

from services.ner import metrics
from services.ner.annotate import Annotation, Planned, annotate, enrich, finish, plan
from services.ner.language import identifier
from services.ner.pipeline import ModelNotInstalled, PatternFileError, load_pipeline
from services.ner.pipelines import Pipelines
from services.ner.worker_heap import KeptHeap
from shared.logs import log_event
from shared.schemas import EnrichedArticle, UniqueArticle
from shared.settings import Settings

logger = logging.getLogger(__name__)
# A worker's resident memory with the pipeline and language model loaded, plus room for a batch of long
# articles: about 240 MiB measured after 60 articles of the syndicated corpus, rounded up.
WORKER_MEMORY_BYTES = 400 << 20
# How much nicer than the service spaCy runs (``nice``): the other hops of an article (the broker, the
# relay, dedupe, the alerter, the notifier, this service's own event loop) need a few milliseconds of CPU
# each and wait for it while spaCy holds every core; lower priority hands them the core at once and
# costs spaCy nothing when they are idle. A machine's other work also comes first.
ANNOTATION_NICENESS = 10


def lower_priority() -> None:
    """Make the calling thread (and the threads and processes it starts) ``ANNOTATION_NICENESS`` nicer.
    Linux gives each thread its own nice value; elsewhere this lowers the whole process, or does nothing."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), min(
            19, os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) + ANNOTATION_NICENESS))
    except (AttributeError, OSError) as error:
        log_event(logger, "ner.priority_unchanged", logging.WARNING, error=str(error))


@dataclass(frozen=True)
class PipelineConfig:
    """Everything a process needs to build the same pipeline and enrich the same way."""

    model: str
    extra_patterns: Path | None
    batch_size: int
    max_chars: int
    language_models: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> PipelineConfig:
        return cls(settings.spacy_model, settings.ner_patterns_path, settings.ner_batch_size, settings.ner_max_chars,
                   dict(settings.spacy_language_models))

    def load(self) -> Pipelines:
        """The primary spaCy pipeline; the other languages' pipelines load when a text first needs them
        (``pipelines.py``)."""
        return Pipelines(load_pipeline(self.model, self.extra_patterns), self.language_models, self.extra_patterns)

    def enrich(self, nlp: Pipelines | Language, articles: Sequence[UniqueArticle]) -> list[EnrichedArticle]:
        """Every step in this process, as ``newsmon ner`` and the benchmarks run it."""
        return enrich(nlp, articles, self.batch_size, self.max_chars)


# State of one worker process of ProcessPoolEnricher (never used in the service's own process).
_worker_config: PipelineConfig | None = None
_worker_nlp: Pipelines | None = None
_worker_error: Exception | None = None
_worker_heap: KeptHeap | None = None


def _start_worker(config: PipelineConfig) -> None:
    """Load the pipeline once per worker; a configuration error is kept and raised by each task, so
    it reaches the service with its message instead of breaking the pool silently."""
    global _worker_config, _worker_nlp, _worker_error, _worker_heap
    _end_with_the_service()
    lower_priority()
    _worker_heap = KeptHeap(WORKER_MEMORY_BYTES)
    if not _worker_heap.keep():
        log_event(logger, "ner.heap_policy_unchanged", reason="no mallopt in the C library, or it refused the setting")
    _worker_config = config
    try:
        _worker_nlp = config.load()
    except (ModelNotInstalled, PatternFileError) as error:
        _worker_error = error


def _end_with_the_service() -> None:
    """End this worker when the service process ends, however it ends.

    The pool stops its workers on a clean stop, but a service killed (SIGKILL after its shutdown
    deadline, or by the guard of a ``newsmon up`` that was killed) leaves them waiting on their task
    queue for ever, each holding a pipeline's memory. The parent's sentinel (a pipe that closes when
    the parent ends) is what multiprocessing offers for that; a daemon thread waits on it.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait_for_the_end() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)

    threading.Thread(target=wait_for_the_end, name="ends-with-the-service", daemon=True).start()


def _annotate_in_worker(planned: Sequence[Planned]) -> list[Annotation]:
    if _worker_error is not None:
        raise _worker_error
    assert _worker_config is not None and _worker_nlp is not None and _worker_heap is not None, \
        "worker started without _start_worker"
    _worker_heap.in_use()
    try:
        return annotate(_worker_nlp, planned, _worker_config.batch_size)
    finally:
        _worker_heap.in_use()


def _shares(planned: Sequence[Planned], parts: int) -> list[list[int]]:
    """Indices of ``planned`` for each of at most ``parts`` workers, none empty, balanced by text length.

    spaCy's time grows with the text, and a batch is done when its slowest worker is: each
    text, longest first, goes to the worker with the least text so far. Each share is in
    input order.
    """
    shares: list[list[int]] = [[] for _ in range(min(parts, len(planned)))]
    loads = [0] * len(shares)
    for index in sorted(range(len(planned)), key=lambda index: -len(planned[index].text)):
        least = loads.index(min(loads))
        shares[least].append(index)
        loads[least] += len(planned[index].text)
    return [sorted(share) for share in shares]


class ProcessPoolEnricher:
    """``processes`` worker processes, each with its own pipelines, and one thread of the service's process
    that plans each batch before them and finishes it after. Calls may overlap (the next batch is
    annotated while the one before is published); each returns its articles in input order."""

    def __init__(self, config: PipelineConfig, processes: int) -> None:
        self.config = config
        self.processes = processes
        identifier()  # the language identifier, loaded now so that no article waits for it
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="ner-articles")
        self._pool = self._start_pool()
        # Start the workers now, so a missing model fails the service at start, not at the first article.
        try:
            self._pool.submit(_annotate_in_worker, []).result()
        except BaseException:
            self.close()
            raise

    def _start_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: the service process runs an event loop and threads that a fork would copy mid-flight.
        return ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=(self.config,))

    async def enrich(self, articles: Sequence[UniqueArticle]) -> list[EnrichedArticle]:
        if not articles:
            return []
        loop = asyncio.get_running_loop()
        planned = await loop.run_in_executor(
            self._thread, lambda: [plan(article, self.config.max_chars) for article in articles])
        pool = self._pool
        try:
            annotations = await self._annotate(pool, planned)
        except BrokenProcessPool:
            # A worker process ended mid-batch (the kernel's out-of-memory killer picks the largest process,
            # spaCy's; or someone killed it), and a pool that lost a worker takes no more work. A new pool
            # annotates the batch again; a batch that ends the new pool's worker too fails as any error does,
            # and the service retries its articles one at a time (``app.py``).
            if pool is self._pool:  # not already replaced by another batch that met the same end
                log_event(logger, "ner.workers_lost", logging.ERROR, processes=self.processes,
                          articles=len(articles), article_ids=[article.article_id for article in articles])
                metrics.WORKERS_REPLACED.inc()
                pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._start_pool()
            annotations = await self._annotate(self._pool, planned)
        return await loop.run_in_executor(self._thread, lambda: [
            finish(article, item, annotation)
            for article, item, annotation in zip(articles, planned, annotations, strict=True)])

    async def _annotate(self, pool: ProcessPoolExecutor, planned: list[Planned]) -> list[Annotation]:
        """The batch shared out among the workers (``_shares``), the annotations in input order."""
        loop = asyncio.get_running_loop()
        shares = _shares(planned, self.processes)
        chunks = await asyncio.gather(*(
            loop.run_in_executor(pool, _annotate_in_worker, [planned[index] for index in share])
            for share in shares
        ))
        by_index = {index: annotation for share, chunk in zip(shares, chunks, strict=True)
                    for index, annotation in zip(share, chunk, strict=True)}
        return [by_index[index] for index in range(len(planned))]

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)
        self._thread.shutdown(wait=False, cancel_futures=True)


def make_enricher(settings: Settings) -> ProcessPoolEnricher:
    """The worker processes the settings ask for (``worker_processes``); logs how many and why."""
    processes, reason = worker_processes(settings.ner_n_process)
    log_event(logger, "ner.processes", processes=processes, reason=reason)
    return ProcessPoolEnricher(PipelineConfig.from_settings(settings), processes)


def worker_processes(configured: int | None) -> tuple[int, str]:
    """How many processes annotate, and why: ``NEWSMON_NER_N_PROCESS`` if set, else one per core this process
    may use (``os.sched_getaffinity``), as many as the available memory holds at ``WORKER_MEMORY_BYTES`` each."""
    if configured is not None:
        return configured, "NEWSMON_NER_N_PROCESS"
    cores = len(os.sched_getaffinity(0))
    available = available_memory_bytes()
    if available is None:
        return cores, f"{cores} usable cores"
    fits = max(1, available // WORKER_MEMORY_BYTES)
    if fits < cores:
        return fits, f"{cores} usable cores, memory for {fits} ({available >> 20} MiB available, " \
                     f"{WORKER_MEMORY_BYTES >> 20} MiB per worker)"
    return cores, f"{cores} usable cores ({available >> 20} MiB available, {WORKER_MEMORY_BYTES >> 20} MiB per worker)"


def available_memory_bytes() -> int | None:
    """MemAvailable of ``/proc/meminfo`` (Linux), or None where there is none."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None
