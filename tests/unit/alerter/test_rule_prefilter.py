"""Rules skipped for lacking their words: never one that would fire, and most of a large watchlist."""

from __future__ import annotations

import pytest

from newsmon.offline import enrich_files
from services.alerter.rule_engine.article_words import ArticleWords
from services.alerter.rule_engine.matching import CompiledRule, compile_rules, evaluate
from services.alerter.rule_engine.rules import parse_rules
from shared.schemas import EnrichedArticle, Mention
from shared.settings import get_settings
from tests.bench.bench_rules import generated_rules
from tests.conftest import SAMPLES
from tests.unit.alerter.test_matching import article
from tests.unit.alerter.test_rule_language import with_lemmas


@pytest.fixture(scope="module")
def samples() -> list[EnrichedArticle]:
    return [enriched for _, enriched in enrich_files([SAMPLES], get_settings())]


def rule(sentence: str) -> CompiledRule:
    [compiled] = compile_rules(parse_rules(f"rules:\n  - id: r\n    name: R\n    sentence: {sentence}\n", "t.yaml"))
    return compiled


def test_a_generated_watchlist_fires_the_same_rules_with_the_skipping(samples: list[EnrichedArticle]) -> None:
    rules = compile_rules(parse_rules(generated_rules(1000), "generated.yaml"))
    checked = skipped = fired = 0
    for item in samples:
        words = ArticleWords(item)
        would_fire = [compiled.rule.id for compiled in rules if compiled.match(words) is not None]
        assert [match.rule.id for match in evaluate(rules, item)] == would_fire
        assert all(compiled.may_fire(words.vocabulary) for compiled in rules if compiled.rule.id in would_fire)
        checked += len(rules)
        skipped += sum(not compiled.may_fire(words.vocabulary) for compiled in rules)
        fired += len(would_fire)
    assert fired, "the watchlist fires on the samples (any of them), so the comparison means something"
    assert skipped > checked / 2, f"only {skipped} of {checked} rule evaluations skipped"


def test_every_word_of_an_any_group_and_each_of_an_all_group_counts() -> None:
    either = rule("{any: [Gaza, Rafah]}")
    both = rule("{all: [Iran, sanction]}")
    only_rafah = ArticleWords(article("Aid reached Rafah."))
    assert either.may_fire(only_rafah.vocabulary)
    assert not both.may_fire(only_rafah.vocabulary)
    assert both.may_fire(ArticleWords(article("Iran faces sanctions.")).vocabulary), "inflections count"
    assert both.may_fire(ArticleWords(article("IRAN. Sanctioned.")).vocabulary), "case and sentences do not"
    bought = ArticleWords(with_lemmas(article("They bought it."), bought="buy"))
    assert rule("{any: [buy]}").may_fire(bought.vocabulary), "lemmas count"


def test_exclusions_never_skip_and_entities_count_by_canonical_name_and_label() -> None:
    assert rule("{all: [here, {none: [football]}]}").may_fire(ArticleWords(article("Nothing here.")).vocabulary)
    text = "Blinken arrived."
    item = article(text).model_copy(update={"mentions": [
        Mention(text="Blinken", label="PERSON", start=0, end=7, sentence=0, canonical="Antony Blinken")]})
    words = ArticleWords(item)
    assert rule("{entity: Antony Blinken}").may_fire(words.vocabulary)
    assert rule("{label: PERSON}").may_fire(words.vocabulary)
    assert not rule("{label: GPE}").may_fire(words.vocabulary)
    assert [match.rule.id for match in evaluate([rule("{entity: Antony Blinken}")], item)] == ["r"]
