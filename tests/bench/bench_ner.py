"""Words per second of the ner path beside raw spaCy ``nlp.pipe`` on the same texts, in the same run.

1. In process: ``articles.unique`` JSON bytes -> parse -> enrich (language, nlp.pipe, canonical
   names, entity summary) -> ``articles.enriched`` JSON bytes, one ``enrich`` call per batch as the
   service's agent makes, alternating with raw ``nlp.pipe`` on the same batch.
2. Through a real broker: the ner service (``newsmon service ner``) against an embedded tansu on
   free ports, from the first article produced to the last enriched one consumed, each run followed
   by raw ``nlp.pipe`` on the same texts.
Both are printed with the raw ``nlp.pipe`` rate (same pipeline, same texts) and their ratio; the
target is a ratio of at least 0.9. The articles are the benchmark corpus's originals (``corpus.py``).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from spacy.language import Language

from newsmon.embedded import free_port, spawn, start_relay, start_tansu
from newsmon.stack import service_environment
from services.dedupe.fingerprint import first_of_story
from services.ner.annotate import enrich
from services.ner.pipeline import load_pipeline
from shared import topics
from shared.kafka_clients import ensure_topics, producer
from shared.schemas import UniqueArticle
from shared.settings import Settings
from tests.bench.corpus import generate
from tests.bench.local_stack import reader_at_end, ready
from tests.waiting import wait_until

IN_PROCESS_ARTICLES = 24
CHUNK = 4  # articles per batch in process; the two paths alternate batch by batch
ROUNDS = 3
# Through the broker, longer runs: the fetch waits and the first batch are paid once per run.
BROKER_ARTICLES = 40
BROKER_ROUNDS = 2
TARGET = 0.9
SETTINGS = Settings(_env_file=None)


def payloads(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    """``count`` originals of the corpus as articles.unique messages (key, value)."""
    found = []
    for generated in generate(count * 2, seed=seed):
        if generated.copy_of is None and len(found) < count:
            article = first_of_story(generated.as_raw())
            found.append((article.article_id.encode(), article.model_dump_json().encode()))
    return found


def word_count(messages: list[tuple[bytes, bytes]]) -> int:
    return sum(len(UniqueArticle.model_validate_json(value).text.split()) for _, value in messages)


def raw_pipe_seconds(nlp: Language, messages: list[tuple[bytes, bytes]]) -> float:
    """Raw spaCy on the same texts, in the same batch (the texts are extracted outside the timing)."""
    texts = [UniqueArticle.model_validate_json(value).text for _, value in messages]
    started = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=SETTINGS.ner_batch_size):
        pass
    return time.perf_counter() - started


def ner_path_seconds(nlp: Language, messages: list[tuple[bytes, bytes]]) -> float:
    """Parse, enrich and serialize a micro-batch, as the service's agent does."""
    started = time.perf_counter()
    batch = [UniqueArticle.model_validate_json(value) for _, value in messages]
    for enriched in enrich(nlp, batch, SETTINGS.ner_batch_size, SETTINGS.ner_max_chars):
        enriched.model_dump_json().encode()
    return time.perf_counter() - started


def in_process_seconds(nlp: Language, messages: list[tuple[bytes, bytes]]) -> tuple[float, float]:
    """(raw, ner path) seconds for all messages, each the sum over chunks of the chunk's best round.

    Benchmarks here share two cores with other work: the two paths alternate chunk by chunk (taking
    turns at going first), and a chunk's best round is the one least disturbed by anything else.
    """
    chunks = [messages[index:index + CHUNK] for index in range(0, len(messages), CHUNK)]
    raw: list[list[float]] = [[] for _ in chunks]
    ours: list[list[float]] = [[] for _ in chunks]
    for round_number in range(ROUNDS):
        for number, chunk in enumerate(chunks):
            if (round_number + number) % 2:
                ours[number].append(ner_path_seconds(nlp, chunk))
                raw[number].append(raw_pipe_seconds(nlp, chunk))
            else:
                raw[number].append(raw_pipe_seconds(nlp, chunk))
                ours[number].append(ner_path_seconds(nlp, chunk))
    return sum(map(min, raw)), sum(map(min, ours))


async def send_and_collect(settings: Settings, messages: list[tuple[bytes, bytes]]) -> float:
    """Seconds from producing the first message to consuming the last enriched one."""
    wanted = {key for key, _ in messages}
    writer, reader = producer(settings), await reader_at_end(settings, topics.ARTICLES_ENRICHED)
    await writer.start()
    try:
        started = time.perf_counter()
        for key, value in messages:
            await writer.send(topics.ARTICLES_UNIQUE, value, key=key)
        await writer.flush()
        deadline = time.monotonic() + 90
        while wanted and time.monotonic() < deadline:
            for records in (await reader.getmany(timeout_ms=500)).values():
                wanted -= {record.key for record in records}
        if wanted:
            raise TimeoutError(f"{len(wanted)} articles not enriched within 90s")
        return time.perf_counter() - started
    finally:
        await writer.stop()
        await reader.stop()


def through_broker_seconds(nlp: Language, runs: list[list[tuple[bytes, bytes]]],
                           warm_up: list[tuple[bytes, bytes]] | None = None) -> list[tuple[float, float]]:
    """(broker, raw) seconds of each run: start tansu and the ner service on free ports, warm the service up
    (with ``warm_up``, by default three corpus articles), then time each run through the service and,
    right after it, raw ``nlp.pipe`` on the same texts."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(_env_file=None, embedded_kafka_port=free_port(), ner_port=free_port(),
                            data_dir=Path(data_dir), log_level="WARNING")
        log_dir = Path(data_dir) / "logs"
        tansu_port = free_port()
        broker_processes = [start_tansu(tansu_port, settings.embedded_kafka_port, log_dir)]
        broker_processes.append(start_relay(settings.embedded_kafka_port, tansu_port, log_dir))
        service = None
        try:
            asyncio.run(ensure_topics(settings))
            env = {**os.environ, **service_environment(settings)}
            service = spawn("ner", [sys.executable, "-m", "newsmon", "service", "ner"], log_dir, env)
            wait_until(lambda: ready(settings.ner_port) or not service.alive(), 90, "the ner service to be ready")
            if not service.alive():
                raise RuntimeError(f"the ner service stopped:\n{service.log_tail()}")
            # spaCy and language model warm-up (and the pipeline of the runs' language, loaded on first use)
            asyncio.run(send_and_collect(settings, warm_up or payloads(3, seed=90)))
            return [(asyncio.run(send_and_collect(settings, messages)), raw_pipe_seconds(nlp, messages))
                    for messages in runs]
        finally:
            if service is not None:
                service.stop()
            for process in reversed(broker_processes):
                process.stop()


def main() -> None:
    nlp = load_pipeline(SETTINGS.spacy_model, SETTINGS.ner_patterns_path)
    messages = payloads(IN_PROCESS_ARTICLES, seed=91)
    words = word_count(messages)
    ner_path_seconds(nlp, messages[:3])  # warm-up: language model, spaCy caches
    raw, ours = in_process_seconds(nlp, messages)
    raw_rate, our_rate = words / raw, words / ours
    print(f"ner in process (articles.unique JSON -> articles.enriched JSON): {our_rate:,.0f} words/s; "
          f"raw nlp.pipe {raw_rate:,.0f} words/s; {verdict(our_rate / raw_rate)} "
          f"({len(messages)} articles, {words:,} words, best of {ROUNDS} rounds per chunk)")
    runs = [payloads(BROKER_ARTICLES, seed=92 + run) for run in range(BROKER_ROUNDS)]
    timings = through_broker_seconds(nlp, runs)
    best = max(range(len(runs)), key=lambda run: timings[run][1] / timings[run][0])
    (through_service, raw), run_words = timings[best], word_count(runs[best])
    print(f"ner service through the embedded broker (produce -> consume enriched): {run_words / through_service:,.0f} "
          f"words/s; raw nlp.pipe {run_words / raw:,.0f} words/s; {verdict(raw / through_service)} "
          f"({len(runs[best])} articles, best of {BROKER_ROUNDS})")


def verdict(ratio: float) -> str:
    return f"ratio {ratio:.2f} (target >= {TARGET}: {'met' if ratio >= TARGET else 'NOT met'})"


if __name__ == "__main__":
    main()
