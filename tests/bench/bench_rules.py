"""Articles per second through rule evaluation with 10, 100 and 1,000 rules, beside a raw baseline.

The articles are the benchmark corpus's originals (``corpus.py``) as the ner stage enriches them.
Rules are generated like real watchlists: places or named entities, a topic term, often cue words,
sometimes proximity, exclusions, article scope or a minimum count. The baseline is Python's ``re``
doing the least any matcher must do on the same sentences: one case-insensitive alternation of
every rule term (with the same inflections), searched through each sentence. Prints both and the
ratio.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable

import yaml

from services.alerter.rule_engine.article_words import term_words
from services.alerter.rule_engine.events.sentence_parse import SpacySentenceParser
from services.alerter.rule_engine.matching import compile_rules, evaluate
from services.alerter.rule_engine.rules import load_rules, parse_rules
from services.dedupe.fingerprint import first_of_story
from services.ner.workers import PipelineConfig
from shared.schemas import EnrichedArticle
from shared.settings import Settings
from tests.bench.corpus import generate

ARTICLES = 40
MIN_SECONDS = 1.0

PLACES = ["Iran", "Tehran", "Israel", "Gaza", "Rafah", "Ukraine", "Kyiv", "Russia", "Moscow", "China", "Beijing",
          "Taiwan", "Yemen", "Lebanon", "Syria", "Egypt", "Cairo", "Qatar", "Italy", "Capri", "Japan", "Canada",
          "Brussels", "Washington", "London", "Paris", "Berlin", "Sudan", "Niger", "Venezuela", "Cuba", "Iraq"]
TOPICS = ["sanction", "embargo", "air defense", "drone", "missile", "ceasefire", "hostage", "troops", "aid",
          "election", "tariff", "strike", "talks", "summit", "refugee", "border", "nuclear", "oil", "gas", "attack",
          "artillery", "humanitarian", "negotiation", "minister", "protest", "coup", "famine", "evacuation"]
CUES = ["new", "impose", "announce", "expand", "fresh", "additional", "round", "tighten", "widen", "extend", "urge",
        "warn", "vow", "launch", "resume", "halt", "suspend", "approve", "reject", "agree"]
EXCLUDE = ["football", "match", "concert", "recipe", "weather"]
LABELS = ["GPE", "PERSON", "ORG", "NORP"]


def generated_rules(count: int, seed: int = 7) -> str:
    """``count`` rules as a YAML rule file, deterministic for a seed."""
    rng = random.Random(seed)
    rules = []
    for number in range(count):
        places = rng.sample(PLACES, rng.randint(1, 3))
        topic: object = {"any": rng.sample(TOPICS, rng.randint(1, 2))}
        kind = number % 5
        if kind == 1:
            topic = {"near": [topic, {"any": rng.sample(CUES, 4)}], "within": rng.randint(2, 6)}
        sentence: dict[str, object] = {"all": [{"any": places}, topic]}
        if kind in (0, 2):
            sentence["all"].append({"any": rng.sample(CUES, 5)})  # type: ignore[attr-defined]
        if kind == 2:
            sentence["all"].append({"none": rng.sample(EXCLUDE, 2)})  # type: ignore[attr-defined]
        if kind == 3:
            sentence = {"all": [{"entity": places, "label": "GPE"}, topic]}
        rule: dict[str, object] = {"id": f"rule-{number}", "name": f"Generated rule {number}", "sentence": sentence}
        if kind == 4:
            rule["article"] = {"any": [{"label": rng.choice(LABELS), "min_mentions": rng.randint(2, 5)}]}
        rules.append(rule)
    return yaml.safe_dump({"rules": rules}, sort_keys=False)


def rule_terms(rules_yaml: str) -> set[str]:
    """Every term string of the generated rules (entity names included, as the baseline searches text)."""
    terms: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, str):
            terms.add(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in ("any", "all", "none", "near", "entity"):
                    walk(value)

    for rule in yaml.safe_load(rules_yaml)["rules"]:
        walk(rule.get("sentence"))
        walk(rule.get("article"))
    return terms


def baseline_pattern(terms: set[str]) -> re.Pattern[str]:
    """One alternation of every term in every accepted form, whole words, any case."""
    alternatives = set()
    for term in terms:
        forms = term_words(term, case_sensitive=False)
        alternatives.update(r"\s+".join(re.escape(f) for f in prefix) + (r"\s+" if prefix else "") + re.escape(last)
                            for prefix in [[next(iter(w)) for w in forms[:-1]]] for last in forms[-1])
    return re.compile(r"\b(?:" + "|".join(sorted(alternatives, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def rate(function: Callable[[EnrichedArticle], object], articles: list[EnrichedArticle]) -> float:
    """Articles per second, over at least MIN_SECONDS."""
    done, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < MIN_SECONDS or done == 0:
        for article in articles:
            function(article)
        done += len(articles)
    return done / elapsed


def event_rules(articles: list[EnrichedArticle]) -> None:
    """The shipped rules (iran-sanctions is an event condition) beside parsing every sentence, which is
    what the event condition would cost without its candidate filter; the first pass parses, later
    ones find the parses cached."""
    parser = SpacySentenceParser(Settings(_env_file=None).spacy_model)
    rules = compile_rules(load_rules(None), parser=parser)
    parser.warm_up()
    started = time.perf_counter()
    for article in articles:
        evaluate(rules, article)
    cold = len(articles) / (time.perf_counter() - started)
    warm = rate(lambda article: evaluate(rules, article), articles)
    sentences = [article.text[s.start:s.end] for article in articles for s in article.sentences]
    started = time.perf_counter()
    for _ in parser.pipeline().pipe(sentences):
        pass
    every = len(articles) / (time.perf_counter() - started)
    print(f"  shipped rules (event condition): {cold:8.1f} articles/s parsing ({parser.parses} of {len(sentences)} "
          f"sentences), {warm:8.1f} cached; parsing every sentence {every:8.1f} articles/s, ratio {cold / every:.1f}")


def enriched_corpus() -> list[EnrichedArticle]:
    """The corpus's originals, enriched as the ner service enriches them."""
    config = PipelineConfig.from_settings(Settings(_env_file=None))
    originals = [first_of_story(article.as_raw()) for article in generate(ARTICLES) if article.copy_of is None]
    return config.enrich(config.load(), originals)


def main() -> None:
    articles = enriched_corpus()
    sentences = sum(len(article.sentences) for article in articles)
    print(f"rule evaluation on {len(articles)} enriched corpus articles ({sentences} sentences):")
    for count in (10, 100, 1000):
        text = generated_rules(count)
        rules = compile_rules(parse_rules(text, f"generated-{count}"))
        pattern = baseline_pattern(rule_terms(text))

        def raw(article: EnrichedArticle, pattern: re.Pattern[str] = pattern) -> object:
            return [pattern.findall(article.text, sentence.start, sentence.end) for sentence in article.sentences]

        fired = sum(len(evaluate(rules, article)) for article in articles)
        ours = rate(lambda article, rules=rules: evaluate(rules, article), articles)  # type: ignore[misc]
        baseline = rate(raw, articles)
        print(f"  {count:>5} rules: newsmon {ours:8.1f} articles/s ({fired} rules fire), "
              f"raw re alternation {baseline:8.1f} articles/s, ratio {ours / baseline:.2f}")
    event_rules(articles)


if __name__ == "__main__":
    main()
