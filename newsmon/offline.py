"""The offline path of ``newsmon rules test``: files -> articles -> NER -> rules, no broker needed.

It calls the same cores as the services (fetcher file reading, ner annotation, alerter
matching), so what it prints is what the running alerter would fire.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

from services.alerter.rule_engine.matching import CompiledRule, RuleMatch, compile_rules, evaluate
from services.alerter.rule_engine.rule_store import RuleStore
from services.alerter.rule_engine.rulebook import RuleBook
from services.alerter.rule_engine.rules import load_rules
from services.dedupe.fingerprint import first_of_story
from services.fetcher.files import iter_article_files, read_articles
from services.ner.workers import PipelineConfig
from shared.redis_client import connect
from shared.schemas import EnrichedArticle
from shared.settings import Settings


def enrich_files(paths: list[Path], settings: Settings) -> Iterator[tuple[Path, EnrichedArticle]]:
    """Each article of each file, enriched as the ner service would (model, patterns, text cap)."""
    config = PipelineConfig.from_settings(settings)
    nlp = config.load()
    for path in iter_article_files(paths):
        articles = [first_of_story(article) for article in read_articles(path)]
        for enriched in config.enrich(nlp, articles):
            yield path, enriched


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
