"""``newsmon rules test --from-topic articles.enriched --last N``: backtest rules on what the pipeline saw.

Reads the last N messages of each partition with a group-less consumer (the alerter's offsets
never move) and runs the alerter's own rule code on them, so what it prints is what the alerter
would fire with that rule file. Needs the broker only: no Redis, no NER.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from newsmon.services.alerter.matching import RuleMatch, compile_rules, evaluate
from newsmon.services.alerter.rules import load_rules
from newsmon.shared.kafka_clients import consumer
from newsmon.shared.schemas import EnrichedArticle, describe_validation_error
from newsmon.shared.settings import Settings

READ_TIMEOUT_S = 30.0  # without any progress; a reachable broker answers in well under a second


class BacktestError(RuntimeError):
    """The topic cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    value: bytes


@dataclass(frozen=True)
class BacktestHit:
    """A rule that fires on one message of the topic."""

    article: EnrichedArticle
    match: RuleMatch
    partition: int
    offset: int


def backtest_from_topic(
    settings: Settings, topic: str, last: int, rules_path: Path | None,
    on_skip: Callable[[str], None] | None = None,
) -> Iterator[BacktestHit]:
    """Every rule that fires on the last ``last`` messages of each partition of ``topic``.

    Raises ``RuleFileError`` for a bad rule file (before reading anything) and ``BacktestError``
    when the topic is missing or unreadable. Messages that are not enriched articles are skipped,
    each reported to ``on_skip`` with its partition, offset and reason.
    """
    rules = compile_rules(load_rules(rules_path))
    for record in asyncio.run(read_last(settings, topic, last)):
        try:
            article = EnrichedArticle.model_validate_json(record.value)
        except ValidationError as error:
            if on_skip is not None:
                on_skip(f"{topic}[{record.partition}]@{record.offset}: not an enriched article: "
                        f"{describe_validation_error(error)[:200]}")
            continue
        for match in evaluate(rules, article):
            yield BacktestHit(article, match, record.partition, record.offset)


def hit_lines(hit: BacktestHit, as_json: bool) -> list[str]:
    """What ``rules test`` prints for a hit: one line per matched sentence."""
    if as_json:
        return [json.dumps({"article_id": hit.article.article_id, "rule": hit.match.rule.id, "sentence": s.text})
                for s in hit.match.sentences]
    return [f"{hit.article.article_id}: {hit.match.rule.id}: {s.text}" for s in hit.match.sentences]


async def read_last(settings: Settings, topic: str, last: int) -> list[Record]:
    """The last ``last`` messages of every partition, in partition then offset order."""
    reader = consumer(settings)
    try:
        await reader.start()
        if topic not in await reader.topics():
            raise BacktestError(f"topic {topic!r} does not exist on {settings.bootstrap}")
        partitions = [TopicPartition(topic, number) for number in sorted(reader.partitions_for_topic(topic) or ())]
        reader.assign(partitions)
        ends = await reader.end_offsets(partitions)
        begins = await reader.beginning_offsets(partitions)
        pending = set()
        for partition in partitions:
            start = max(begins[partition], ends[partition] - last)
            reader.seek(partition, start)
            if start < ends[partition]:
                pending.add(partition)
        records: list[Record] = []
        deadline = time.monotonic() + READ_TIMEOUT_S
        while pending:
            if time.monotonic() > deadline:
                raise BacktestError(f"reading {topic!r} from {settings.bootstrap} made no progress "
                                    f"for {READ_TIMEOUT_S:.0f}s")
            batches = await reader.getmany(*pending, timeout_ms=1000)
            for partition, batch in batches.items():
                records += [Record(partition.partition, item.offset, item.value)
                            for item in batch if item.offset < ends[partition] and item.value is not None]
                deadline = time.monotonic() + READ_TIMEOUT_S
            for partition in list(pending):
                if await reader.position(partition) >= ends[partition]:
                    pending.discard(partition)
        return sorted(records, key=lambda record: (record.partition, record.offset))
    except (KafkaError, OSError) as error:
        raise BacktestError(f"cannot read {topic!r} from {settings.bootstrap}: {error}") from error
    finally:
        await reader.stop()
