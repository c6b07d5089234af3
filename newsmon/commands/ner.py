"""``newsmon ner [--json] FILES...``: the enriched message of each article file, offline.

It reads files like ``newsmon replay`` and runs the ner service's own core (the same pipeline,
patterns, language handling and canonical names), so what it prints is what the service would
publish on ``articles.enriched``; no broker or Redis is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from shared.schemas import EnrichedArticle

SUMMARY_ENTITIES = 10


def ner_command(
    files: Annotated[list[Path], typer.Argument(help="Article files or folders (.txt, .html, .jsonl).")],
    as_json: Annotated[bool, typer.Option("--json", help="One enriched message (JSON) per line.")] = False,
) -> None:
    """Print the enriched message of each article: sentences, canonical entities, language, timings."""
    # Imported here so that other commands do not pay for loading spaCy.
    from services.dedupe.fingerprint import first_of_story
    from services.fetcher.errors import SourceError
    from services.fetcher.files import iter_article_files, read_articles
    from services.ner.pipeline import ModelNotInstalled, PatternFileError
    from services.ner.workers import PipelineConfig
    from shared.settings import get_settings

    config = PipelineConfig.from_settings(get_settings())
    try:
        nlp = config.load()
        for path in iter_article_files(files):
            articles = []
            for article in read_articles(path):
                try:
                    articles.append(first_of_story(article))
                except ValueError as error:  # nothing left after dedupe's cleanup: the service never sees it
                    typer.secho(f"{path}: skipped article {article.article_id}: {error}", err=True)
            for enriched in config.enrich(nlp, articles):
                typer.echo(enriched.model_dump_json() if as_json else summary(path, enriched))
    except (SourceError, ModelNotInstalled, PatternFileError) as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def summary(path: Path, article: EnrichedArticle) -> str:
    """A few lines for a person: title, language and mode, then the most salient entities."""
    facts = [f"language {article.language or 'unknown'}", f"{article.ner_mode} NER",
             f"{len(article.sentences)} sentences", f"{len(article.mentions)} mentions", f"{article.ner_ms:.0f} ms"]
    if article.text_truncated:
        facts.append(f"text truncated at {article.annotated_chars} of {len(article.text)} characters")
    lines = [f"{path}: {article.title}", "  " + ", ".join(facts)]
    for entity in article.entities[:SUMMARY_ENTITIES]:
        others = [alias for alias in entity.aliases if alias != entity.name]
        line = f"  {entity.label:<8} {entity.name:<28} {entity.mentions:>3}x  salience {entity.salience:.2f}"
        lines.append(line + (f"  ({', '.join(others)})" if others else ""))
    return "\n".join(lines)
