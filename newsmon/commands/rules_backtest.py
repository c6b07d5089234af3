"""``newsmon rules test --from-topic articles.enriched --last N``: backtest rules on what the pipeline saw.

Reads the last N messages of each partition with a group-less consumer (the alerter's offsets
never move) and runs the alerter's own rule code on them, so what it prints is what the alerter
would fire with that rule file. Needs the broker only: no Redis, no NER.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydantic import ValidationError

from newsmon.offline import match_lines
from services.alerter.rule_engine.matching import CompiledRule, RuleMatch, evaluate
from shared.kafka_clients import read_last
from shared.schemas import EnrichedArticle, describe_validation_error
from shared.settings import Settings


@dataclass(frozen=True)
class BacktestHit:
    """A rule that fires on one message of the topic."""

    article: EnrichedArticle
    match: RuleMatch
    partition: int
    offset: int


def backtest_from_topic(
    settings: Settings, topic: str, last: int, rules: list[CompiledRule],
    on_skip: Callable[[str], None] | None = None,
) -> Iterator[BacktestHit]:
    """Every rule that fires on the last ``last`` messages of each partition of ``topic``.

    Raises ``TopicReadError`` when the topic is missing or unreadable. Messages that are not
    enriched articles are skipped, each reported to ``on_skip`` with its partition, offset and reason.
    """
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
    """What ``rules test`` prints for a hit: each matched sentence (and its event, for event rules)."""
    return match_lines("article_id", hit.article.article_id, hit.match, as_json)
