"""Fixtures of the alerter's unit tests: articles enriched by the real ner core (lemmas, mentions), and
the rules and event helpers the event tests share."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from itertools import count

import pytest

from newsmon.offline import OfflineNer
from services.alerter.rule_engine.article_words import ArticleWords
from services.alerter.rule_engine.matching import CompiledRule, compile_rules, evaluate
from services.alerter.rule_engine.rules import load_rules, parse_rules
from shared.schemas import EnrichedArticle, MatchedEvent, RawArticle
from shared.settings import get_settings

Enrich = Callable[..., EnrichedArticle]
PUBLISHED = datetime(2024, 5, 14, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def enrich() -> Enrich:
    """``enrich(text, published=...)``: the article as the ner stage would publish it (the pipeline loads once)."""
    numbers = count()
    ner = OfflineNer(get_settings())

    def enriched(text: str, published: datetime = PUBLISHED) -> EnrichedArticle:
        article = RawArticle(article_id=f"a{next(numbers)}", text=text, source="test", published_at=published)
        [result] = ner.enrich([article])
        return result

    return enriched


def iran_sanctions() -> CompiledRule:
    """The shipped ``iran-sanctions`` rule, compiled with the configured aliases and parser."""
    [compiled] = [rule for rule in compile_rules(load_rules(None)) if rule.rule.id == "iran-sanctions"]
    return compiled


def one_rule(sentence_yaml: str) -> CompiledRule:
    """A rule ``r`` whose ``sentence:`` condition is the YAML given (indented as under ``sentence:``)."""
    [compiled] = compile_rules(parse_rules(f"rules:\n  - id: r\n    name: R\n    sentence:{sentence_yaml}\n",
                                           "watch.yaml"))
    return compiled


def events(rule: CompiledRule, enrich: Enrich, text: str, published: datetime | None = None) -> list[MatchedEvent]:
    """The events the rule fires with on the text, [] when it does not fire."""
    article = enrich(text) if published is None else enrich(text, published)
    matches = evaluate([rule], article)
    return [event for match in matches for event in match.events or []]


def rejections(rule: CompiledRule, enrich: Enrich, text: str) -> list[str]:
    """Why the rule's event conditions rejected each event they found in the text."""
    return [finding.rejected or "" for finding in rule.rejected_events(ArticleWords(enrich(text)))]
