"""The offline path of ``newsmon rules test`` and ``rules eval``: articles -> NER -> rules, no broker needed.

It calls the same cores as the services (fetcher file reading, dedupe cleanup, ner annotation,
alerter matching, and the alerter's sentence parser for event conditions), so what it prints is
what the running alerter would fire.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from services.alerter.rule_engine.matching import CompiledRule, RuleMatch, compile_rules, evaluate
from services.alerter.rule_engine.rule_store import RuleStore
from services.alerter.rule_engine.rulebook import RuleBook
from services.alerter.rule_engine.rules import load_rules
from services.dedupe.fingerprint import first_of_story
from services.fetcher.files import iter_article_files, read_articles
from services.ner.workers import PipelineConfig
from shared.redis_client import connect
from shared.schemas import EnrichedArticle, MatchedEvent, MatchedSentence, RawArticle
from shared.settings import Settings


def enrich_files(paths: list[Path], settings: Settings) -> Iterator[tuple[Path, EnrichedArticle]]:
    """Each article of each file, enriched as the ner service would (model, patterns, text cap)."""
    config = PipelineConfig.from_settings(settings)
    nlp = config.load()
    for path in iter_article_files(paths):
        articles = [first_of_story(article) for article in read_articles(path)]
        for enriched in config.enrich(nlp, articles):
            yield path, enriched


class OfflineNer:
    """The ner stage's core with its pipeline loaded once, for enriching articles outside the service."""

    def __init__(self, settings: Settings) -> None:
        self.config = PipelineConfig.from_settings(settings)
        self.nlp = self.config.load()

    def enrich(self, articles: Iterable[RawArticle]) -> list[EnrichedArticle]:
        """Articles cleaned as dedupe cleans them and enriched as the ner service would, each the first of
        its story. Raises ``EmptyArticle`` for an article with no text left after cleanup."""
        return self.config.enrich(self.nlp, [first_of_story(article) for article in articles])


def rules_to_test(settings: Settings, rules_path: Path | None, with_api_rules: bool) -> list[CompiledRule]:
    """The rule file's rules; with ``with_api_rules``, every rule the running alerter has, read as it reads them.

    Raises ``RuleFileError`` for a bad file, and Redis's errors when the API rules cannot be read.
    """
    if not with_api_rules:
        return compile_rules(load_rules(rules_path))

    async def read() -> list[CompiledRule]:
        redis = connect(settings)
        try:
            rulebook = RuleBook(rules_path, RuleStore(redis))
            await rulebook.refresh()
            return rulebook.rules
        finally:
            await redis.aclose()

    return asyncio.run(read())


def fired_rules(
    enriched: Iterator[tuple[Path, EnrichedArticle]], rules: list[CompiledRule]
) -> Iterator[tuple[Path, RuleMatch]]:
    """Every rule that fires on every article."""
    for path, article in enriched:
        for match in evaluate(rules, article):
            yield path, match


def match_lines(origin_field: str, origin: str, match: RuleMatch, as_json: bool) -> list[str]:
    """What ``rules test`` prints for a match: per sentence, ``origin: rule: sentence`` and, for a rule
    with an event condition, the event on the next line; or one JSON object (``--json``) with
    ``origin_field``, ``rule``, ``sentence`` and, when there is one, ``event``."""
    lines = []
    for sentence in match.sentences:
        event = event_of(match, sentence)
        if as_json:
            item: dict[str, object] = {origin_field: origin, "rule": match.rule.id, "sentence": sentence.text}
            if event is not None:
                item["event"] = event.model_dump(mode="json", exclude={"sentence", "sentence_start"})
            lines.append(json.dumps(item))
            continue
        lines.append(f"{origin}: {match.rule.id}: {sentence.text}")
        if event is not None:
            lines.append("  event: " + describe_event(event))
    return lines


def event_of(match: RuleMatch, sentence: MatchedSentence) -> MatchedEvent | None:
    """The event that made ``sentence`` match, when the rule has an event condition that held there."""
    return next((event for event in match.events or [] if event.sentence_start == sentence.start), None)


def describe_event(event: MatchedEvent) -> str:
    """One line a person reads: ``action 'imposed', object 'sanctions', target 'Iran' (verb, lede)``: the kind of
    event, and the scope that made it the article's news when the alert says."""
    parts = [f"action {event.action.text!r}", f"object {event.object.text!r}"]
    parts += [f"{role} {part.text!r}" for role, part in (("target", event.target), ("source", event.source))
              if part is not None]
    return ", ".join(parts) + (f" ({event.kind}, {event.scope})" if event.scope else f" ({event.kind})")
