"""NEWSMON_NER_N_PROCESS: worker processes give the same messages, in order, as the in-process pipeline."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from spacy.language import Language

from services.ner import metrics, workers
from services.ner.pipeline import ModelNotInstalled
from services.ner.pipelines import Pipelines
from services.ner.workers import (
    ANNOTATION_NICENESS,
    WORKER_MEMORY_BYTES,
    PipelineConfig,
    ProcessPoolEnricher,
    make_enricher,
    worker_processes,
)
from shared.schemas import EnrichedArticle, UniqueArticle
from shared.settings import Settings
from tests.unit.ner.conftest import unique_article

VARYING = {"ner_ms", "enrich_ms", "enriched_at"}


def comparable(articles: list[EnrichedArticle]) -> list[dict]:  # type: ignore[type-arg]
    return [article.model_dump(exclude=VARYING) for article in articles]


async def test_worker_processes_match_the_in_process_pipeline(nlp: Language, sample_dir: Path) -> None:
    config = PipelineConfig.from_settings(Settings(_env_file=None))
    articles = [unique_article(path) for path in sorted(sample_dir.glob("*.txt"))]
    pool = ProcessPoolEnricher(config, processes=2)
    try:
        enriched = await pool.enrich(articles)
        assert await pool.enrich([]) == []
    finally:
        pool.close()
    assert comparable(enriched) == comparable(config.enrich(nlp, articles))


async def test_one_process_annotates_in_a_worker_at_low_priority_beside_the_event_loop(sample_dir: Path) -> None:
    enricher = make_enricher(Settings(_env_file=None, ner_n_process=1))
    try:
        assert enricher.processes == 1
        (enriched,) = await enricher.enrich([unique_article(sample_dir / "001_757be6f2e390ada8.txt")])
        assert enriched.entities[0].name == "Antony Blinken"
        # spaCy's process yields the core to the other hops of an article; the service's own threads keep
        # their priority.
        assert enricher._pool.submit(os.nice, 0).result() == nicer_than(os.nice(0))
        assert enricher._pool.submit(os.getpid).result() != os.getpid()
        assert enricher._thread.submit(os.nice, 0).result() == os.nice(0)
    finally:
        enricher.close()


async def test_a_worker_killed_mid_batch_is_replaced_and_the_batch_annotated_again(
        nlp: Language, sample_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = PipelineConfig.from_settings(Settings(_env_file=None))
    articles = [unique_article(path) for path in sorted(sample_dir.glob("*.txt"))] * 8  # long enough to kill mid-way
    pool = ProcessPoolEnricher(config, processes=1)
    replaced = metrics.WORKERS_REPLACED._value.get()
    try:
        worker = pool._pool.submit(os.getpid).result()
        batch = asyncio.ensure_future(pool.enrich(articles))
        await asyncio.sleep(0.3)  # the worker is inside nlp.pipe: the batch takes seconds
        assert not batch.done()
        os.kill(worker, signal.SIGKILL)
        enriched = await batch
        assert comparable(enriched) == comparable(config.enrich(nlp, articles))
        assert pool._pool.submit(os.getpid).result() != worker
        assert metrics.WORKERS_REPLACED._value.get() == replaced + 1
        assert "ner.workers_lost" in caplog.messages
        assert comparable(await pool.enrich(articles[:1])) == comparable(enriched[:1])  # and the next batch too
    finally:
        pool.close()


def nicer_than(niceness: int) -> int:
    return min(19, niceness + ANNOTATION_NICENESS)


def test_a_missing_model_fails_the_pool_at_start_with_its_name() -> None:
    config = PipelineConfig("en_no_such_model", None, 16, 100_000)
    with pytest.raises(ModelNotInstalled, match="en_no_such_model"):
        ProcessPoolEnricher(config, processes=2)


async def test_worker_processes_load_each_language_when_its_first_text_comes(pipelines: Pipelines) -> None:
    config = PipelineConfig.from_settings(Settings(_env_file=None))
    articles = [UniqueArticle(article_id=f"lang-{language}", title="", text=text, source="test", language=language,
                              story_id=f"lang-{language}", content_hash=language) for language, text in (
        ("fr", "L'Union européenne a adopté de nouvelles sanctions contre l'Iran et ses Gardiens de la révolution."),
        ("ar", "وفي رفح قال مسؤولون إن الغارات استمرت طوال الليل في جنوب قطاع غزة."),
    )]
    pool = ProcessPoolEnricher(config, processes=1)
    try:
        enriched = await pool.enrich(articles)
        assert pool._pool.submit(os.nice, 0).result() == nicer_than(os.nice(0)), "a worker annotates at low priority"
    finally:
        pool.close()
    assert [(article.model.name, article.ner_mode) for article in enriched] == [
        ("fr_core_news_md", "full"), ("ar_blank", "patterns_only")]
    assert comparable(enriched) == comparable(config.enrich(pipelines, articles))


def test_by_default_one_process_per_usable_core_as_memory_allows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(workers, "available_memory_bytes", lambda: 64 * WORKER_MEMORY_BYTES)
    assert worker_processes(None)[0] == 4
    monkeypatch.setattr(workers, "available_memory_bytes", lambda: 2 * WORKER_MEMORY_BYTES + 1)
    processes, reason = worker_processes(None)
    assert processes == 2 and "memory for 2" in reason
    monkeypatch.setattr(workers, "available_memory_bytes", lambda: WORKER_MEMORY_BYTES // 2)
    assert worker_processes(None)[0] == 1
    assert worker_processes(1) == (1, "NEWSMON_NER_N_PROCESS")  # one process stays one setting away
    assert worker_processes(3)[0] == 3
