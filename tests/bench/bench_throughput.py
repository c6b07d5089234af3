"""Whole-stack throughput, and what a second NER process adds, each beside raw spaCy on the same texts.

The embedded stack (``newsmon up``'s processes) takes a burst of articles of each corpus
(``corpora.py``: generated, syndicated and wire items; near-duplicates and rule hits in each) on
``articles.raw``, as ``newsmon replay``
publishes them; the time runs from the first article sent to the last enriched article and the
last alert on their topics. Right after each run, raw ``nlp.pipe`` (the same pipeline, one
process) annotates the texts the ner stage annotated (the originals; dedupe drops the copies),
and the ratio is raw time / stack time. Three layouts, each against its target:

- one ner process (``NEWSMON_NER_N_PROCESS=1``): >= 0.9x;
- one ner service with two worker processes (``NEWSMON_NER_N_PROCESS=2``): >= 1.6x on 2 cores;
- two ner services (instances) in one consumer group: >= 1.6x on 2 cores.

Wall-clock ratios need the machine to itself. Each round also prints the CPU time each process
spent per article (``/proc``), which holds under contention; with one ner process, the ner
service's CPU per article is printed beside ``enrich()`` plus JSON in this process on the same
articles (target: within 10%).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from spacy.language import Language

from newsmon.embedded import ManagedProcess, free_port, spawn
from newsmon.stack import Stack, service_environment
from services.dedupe.fingerprint import first_of_story
from services.ner.annotate import enrich
from services.ner.pipeline import load_pipeline
from shared import topics
from shared.kafka_clients import producer
from shared.schemas import UniqueArticle
from shared.settings import Settings
from tests.bench.corpora import CORPORA, RUN_ARTICLES
from tests.bench.corpus import BenchArticle
from tests.bench.local_stack import (
    cpu_seconds,
    process_tree_cpu_seconds,
    reader_at_end,
    ready,
    running,
    stack_settings,
)
from tests.waiting import wait_until

ROUNDS = 3  # per layout and corpus; the best round is the one least disturbed by anything else on the machine
LAYOUTS = {"1 ner process": 0.9, "1 ner service, 2 worker processes": 1.6, "2 ner services": 1.6}  # targets


def expected_outputs(articles: list[BenchArticle]) -> tuple[set[bytes], int, int]:
    """The run's article ids, how many of them ner must enrich (one per story), and how many alerts fire.

    Which article of a story goes on to ner is whichever dedupe sees first: a copy on another
    partition may overtake its original, so the run is counted by stories, not by ids.
    """
    originals = [article for article in articles if article.copy_of is None]
    return ({article.as_raw().article_id.encode() for article in articles}, len(originals),
            sum(len(article.rule_hits) for article in originals))


async def send_and_wait(settings: Settings, articles: list[BenchArticle]) -> float:
    """Seconds from sending the first article to seeing the last enriched article and the last alert."""
    ids, stories, alerts = expected_outputs(articles)
    writer = producer(settings)
    reader = await reader_at_end(settings, topics.ARTICLES_ENRICHED, topics.ALERTS)
    await writer.start()
    try:
        started = time.perf_counter()
        for article in articles:
            message = article.as_raw()
            await writer.send(topics.ARTICLES_RAW, message.model_dump_json().encode(), key=message.article_id.encode())
        await writer.flush()
        enriched: set[bytes] = set()
        fired: set[str] = set()
        deadline = time.monotonic() + 600
        while (len(enriched) < stories or len(fired) < alerts) and time.monotonic() < deadline:
            for partition, records in (await reader.getmany(timeout_ms=200)).items():
                if partition.topic == topics.ALERTS:
                    fired |= {json.loads(record.value)["alert_id"] for record in records}
                else:
                    enriched |= {record.key for record in records} & ids
        if len(enriched) < stories or len(fired) < alerts:
            raise TimeoutError(f"{stories - len(enriched)} stories not enriched, {alerts - len(fired)} alerts missing "
                               f"after 600s; stories without an enriched article: {unenriched(articles, enriched)}")
        return time.perf_counter() - started
    finally:
        await writer.stop()
        await reader.stop()


def unenriched(articles: list[BenchArticle], enriched: set[bytes]) -> list[str]:
    """The article id of each original none of whose story's articles (it or a copy) was enriched."""
    story_ids: dict[int, set[bytes]] = {}
    for article in articles:
        story_ids.setdefault(article.copy_of if article.copy_of is not None else article.number, set()).add(
            article.as_raw().article_id.encode())
    return [article.as_raw().article_id for article in articles
            if article.copy_of is None and not story_ids[article.number] & enriched]


def raw_seconds(nlp: Language, settings: Settings, articles: list[BenchArticle]) -> float:
    """Raw ``nlp.pipe`` over the texts ner annotates (the originals), as one process would."""
    texts = [article.text for article in articles if article.copy_of is None]
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=settings.ner_batch_size):
        pass
    return time.perf_counter() - started


def in_process_cpu_seconds(nlp: Language, settings: Settings, articles: list[BenchArticle]) -> float:
    """CPU seconds of ``enrich()`` in this process over the texts ner annotates, with the JSON the service
    reads and writes: the service's CPU per article is compared with this."""
    messages = [first_of_story(article.as_raw()).model_dump_json().encode()
                for article in articles if article.copy_of is None]
    started = time.process_time()
    for index in range(0, len(messages), settings.ner_batch_size):
        batch = [UniqueArticle.model_validate_json(value) for value in messages[index:index + settings.ner_batch_size]]
        for enriched in enrich(nlp, batch, settings.ner_batch_size, settings.ner_max_chars):
            enriched.model_dump_json().encode()
    return time.process_time() - started


def measure(layout: str, corpus: str, stack: Stack, nlp: Language, seed: int,
            extra: ManagedProcess | None = None) -> None:
    """ROUNDS of (stack run, raw run) on fresh articles of ``corpus``; prints every round's ratio, the best
    against the layout's target, and the CPU each process (and ``extra``, a second ner instance) spent per
    article in the best round."""

    def used_so_far() -> dict[str, float]:
        used = cpu_seconds(stack)
        if extra is not None:
            used[extra.name] = process_tree_cpu_seconds(extra.pid)
        return used

    make = CORPORA[corpus]
    asyncio.run(send_and_wait(stack.settings, make(12, seed * 100)))  # warm-up: models, group, caches
    rounds = []
    for round_number in range(ROUNDS):
        articles = make(RUN_ARTICLES[corpus], seed * 100 + round_number + 1)
        before = used_so_far()
        try:
            through_stack = asyncio.run(send_and_wait(stack.settings, articles))
        except TimeoutError as error:
            tails = "\n".join(f"--- {name}:\n{stack.services[name].log_tail(15)}" for name in ("dedupe", "ner"))
            raise TimeoutError(f"{error}\n{tails}") from None
        used = {name: (spent - before[name]) / len(articles) for name, spent in used_so_far().items()}
        raw = raw_seconds(nlp, stack.settings, articles)
        rounds.append((raw / through_stack, through_stack, raw, articles, used))
    ratio, through_stack, raw, articles, used = max(rounds, key=lambda found: found[0])
    originals = [article for article in articles if article.copy_of is None]
    words = sum(article.words for article in originals)
    target = LAYOUTS[layout]
    print(f"  {corpus:<10} {len(articles)} articles ({len(originals)} stories, {words:,} words) in "
          f"{through_stack:5.1f}s ({words / through_stack:6,.0f} words/s enriched); raw nlp.pipe {raw:5.1f}s "
          f"({words / raw:6,.0f} words/s); ratio {ratio:.2f} (target >= {target}: "
          f"{'met' if ratio >= target else 'NOT met'}; rounds: {', '.join(f'{found[0]:.2f}' for found in rounds)})")
    print("    CPU ms per article sent, by process (best round): "
          + ", ".join(f"{name} {seconds * 1000:.1f}" for name, seconds in used.items()))
    if layout == "1 ner process":
        in_process = in_process_cpu_seconds(nlp, stack.settings, articles) / len(articles)
        print(f"    ner's CPU per article {used['ner'] * 1000:.1f} ms beside enrich() + JSON in one process "
              f"{in_process * 1000:.1f} ms: {used['ner'] / in_process:.2f}x (target <= 1.10)")
        print_capacity(used)


def print_capacity(used: dict[str, float]) -> None:
    """Articles per second one core sustains for each process, from its CPU time per article."""
    rates = ", ".join(f"{name} {1 / seconds:,.0f}" for name, seconds in used.items() if seconds > 0)
    print(f"    articles/s per core, by process: {rates}")


@contextmanager
def second_ner_instance(stack: Stack) -> Iterator[ManagedProcess]:
    """Another ``newsmon service ner`` in the same consumer group, on an HTTP port of its own."""
    port = free_port()
    env = {**os.environ, **service_environment(stack.settings), "NEWSMON_NER_PORT": str(port)}
    process = spawn("ner-2", [sys.executable, "-m", "newsmon", "service", "ner"], stack.log_dir, env)
    try:
        wait_until(lambda: ready(port) or not process.alive(), 180, "the second ner instance to be ready")
        if not process.alive():
            raise RuntimeError(f"the second ner instance stopped:\n{process.log_tail()}")
        yield process
    finally:
        process.stop()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = stack_settings(Path(folder), log_level="WARNING", ner_n_process=1)
        nlp = load_pipeline(settings.spacy_model, settings.ner_patterns_path)
        print(f"whole-stack throughput on the embedded stack, best of {ROUNDS} rounds per layout and corpus "
              f"({', '.join(f'{corpus}: {count} articles' for corpus, count in RUN_ARTICLES.items())} per round):")
        with running(settings) as stack:
            for number, layout in enumerate(LAYOUTS):
                print(f" {layout}:")
                if layout == "1 ner service, 2 worker processes":
                    stack.settings = settings.model_copy(update={"ner_n_process": 2})
                    stack.restart("ner")
                elif layout == "2 ner services" and stack.settings.ner_n_process != 1:
                    stack.settings = settings
                    stack.restart("ner")
                with second_ner_instance(stack) if layout == "2 ner services" else nullcontext() as extra:
                    for index, corpus in enumerate(CORPORA):
                        measure(layout, corpus, stack, nlp, seed=10 * number + index + 1, extra=extra)


if __name__ == "__main__":
    main()
