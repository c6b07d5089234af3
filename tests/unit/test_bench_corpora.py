"""The benchmarks' corpora fire exactly the rules they say: a bench waits for every alert it expects, so a
hit sentence the rules do not read as news stalls it for minutes and it reports nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from newsmon.commands.rules_eval import evaluate_labels
from services.alerter.rule_engine.matching import compile_rules
from services.alerter.rule_engine.rules import load_rules
from shared.settings import get_settings
from tests.bench.bench_latency import HIT_FRACTION, SECONDS_PER_PACE
from tests.bench.corpora import CORPORA as CORPORA_BY_NAME
from tests.bench.corpora import RUN_ARTICLES, BenchArticle, generate, syndicated, wire

CORPORA: dict[str, Callable[[], list[BenchArticle]]] = {
    # The articles bench_latency writes at 10 articles/s with the defaults (its seed: the pace).
    "latency at 10/s": lambda: generate(10 * SECONDS_PER_PACE, seed=10, hit_fraction=HIT_FRACTION),
    "syndicated": lambda: syndicated(100, seed=1),
    "wire": lambda: wire(200, seed=1),
}


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_each_bench_article_fires_exactly_its_rule_hits(corpus: str, tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    originals = [article for article in CORPORA[corpus]() if article.copy_of is None]
    labels.write_text("".join(json.dumps({
        "id": f"{corpus}-{article.number}", "kind": "positive/bench" if article.rule_hits else "negative/bench",
        "rules": sorted(article.rule_hits), "text": article.file_text()}) + "\n" for article in originals))
    _, scores = evaluate_labels(labels, compile_rules(load_rules(None)), get_settings())
    assert sum(len(article.rule_hits) for article in originals) >= 10
    for score in scores:
        assert (score.precision, score.recall) in ((1.0, 1.0), (None, None)), (score.rule_id, score.misses)


def test_a_copy_fires_exactly_the_rules_of_its_original(tmp_path: Path) -> None:
    """A copy reaches dedupe before its original whenever its partition is read first, and is then the
    story's article the alerter sees: if the copy's edits broke the hit, the bench would wait for an alert
    that never comes (and an extra alert would end its count early). Copies of rule-hit articles, from a
    full round of each corpus and a few seeds."""
    copies = [(name, article) for name, corpus in CORPORA_BY_NAME.items() for seed in (101, 102, 103)
              for article in _copies_of_hits(corpus(RUN_ARTICLES[name], seed))]
    labels = tmp_path / "copies.jsonl"
    labels.write_text("".join(json.dumps({
        "id": f"{name}-{article.seed}-{article.number}", "kind": "positive/bench-copy",
        "rules": sorted(article.rule_hits), "text": article.file_text()}) + "\n" for name, article in copies))
    _, scores = evaluate_labels(labels, compile_rules(load_rules(None)), get_settings())
    assert len(copies) >= 100
    for score in scores:
        assert (score.precision, score.recall) in ((1.0, 1.0), (None, None)), (score.rule_id, score.misses)


def _copies_of_hits(articles: list[BenchArticle]) -> list[BenchArticle]:
    hits = {article.number for article in articles if article.copy_of is None and article.rule_hits}
    return [article for article in articles if article.copy_of in hits]
