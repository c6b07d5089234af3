"""``newsmon rules eval --labels FILE.jsonl``: how well each rule fires on labelled articles, and where it misses.

Each line of the labels file is an article (``text``, optional ``title``, ``published_at``,
``kind``, and the ``language`` its source declares) with the ids of the rules it must fire
(``rules``). Several files may be given; the figures are then for all of them, and again for
each language the articles are in. The articles go through the same
cleanup, NER and rule matching as the pipeline (``newsmon.offline``), then each rule is scored:
precision (of the articles it fired on, how many it should have) and recall (of the articles it
should fire on, how many it did), with every miss: a false positive with the sentence that fired,
a false negative with the sentences where its event conditions found an event and why they
rejected it (or the label's ``sentence``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.schemas import RawArticle, describe_validation_error

if TYPE_CHECKING:
    from services.alerter.rule_engine.matching import CompiledRule
    from shared.schemas import EnrichedArticle
    from shared.settings import Settings

MissKind = Literal["false_positive", "false_negative"]
_SHOWN_CHARS = 240


class LabelFileError(ValueError):
    """A labels file that cannot be used; the message names the file, the line and the field."""


class LabelLine(BaseModel):
    """One labelled article."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    rules: list[str] = Field(description="Ids of the rules this article must fire; [] for none.")
    title: str = ""
    kind: str = ""
    published_at: datetime | None = None
    language: str | None = Field(default=None, description="The language the article's source declares.")
    sentence: str | None = Field(default=None, description="The sentence that must fire, shown when it does not.")

    def article(self, origin: str) -> RawArticle:
        return RawArticle(article_id=self.id, text=self.text, title=self.title, source=f"labels:{origin}",
                          published_at=self.published_at, language=self.language)


@dataclass(frozen=True)
class Miss:
    """One article a rule got wrong, with what explains it."""

    article_id: str
    label_kind: str
    miss: MissKind
    sentences: list[str]
    reasons: list[str] = field(default_factory=list)


@dataclass
class RuleScore:
    """Counts over the labelled articles for one rule."""

    rule_id: str
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    misses: list[Miss] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        fired = self.true_positives + self.false_positives
        return self.true_positives / fired if fired else None

    @property
    def recall(self) -> float | None:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else None

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule_id, "precision": self.precision, "recall": self.recall,
                "true_positives": self.true_positives, "false_positives": self.false_positives,
                "false_negatives": self.false_negatives,
                "misses": [{"id": miss.article_id, "kind": miss.label_kind, "miss": miss.miss,
                            "sentences": miss.sentences, "reasons": miss.reasons} for miss in self.misses]}


def read_labels(path: Path, rule_ids: set[str]) -> list[LabelLine]:
    """The labelled articles of ``path``; a bad line, a repeated id or an unknown rule raises ``LabelFileError``."""
    try:
        lines = path.read_text("utf-8").splitlines()
    except OSError as error:
        raise LabelFileError(f"{path}: cannot read labels file: {error.strerror}") from error
    labelled: list[LabelLine] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = LabelLine.model_validate_json(line)
        except ValidationError as error:
            raise LabelFileError(f"{path}:{number}: {describe_validation_error(error)}") from error
        if item.id in seen:
            raise LabelFileError(f"{path}:{number}: id {item.id!r} is used twice")
        unknown = sorted(set(item.rules) - rule_ids)
        if unknown:
            raise LabelFileError(f"{path}:{number}: field rules: no rule {unknown[0]!r} in the rules evaluated "
                                 f"(known: {', '.join(sorted(rule_ids))})")
        seen.add(item.id)
        labelled.append(item)
    if not labelled:
        raise LabelFileError(f"{path}: no labelled articles")
    return labelled


def score_rules(labelled: list[LabelLine], enriched: list[EnrichedArticle],
                rules: list[CompiledRule]) -> list[RuleScore]:
    """Precision, recall and misses of each rule over the labelled articles (``enriched`` in the same order)."""
    from services.alerter.rule_engine.article_words import ArticleWords
    from services.alerter.rule_engine.matching import evaluate

    scores = {compiled.rule.id: RuleScore(compiled.rule.id) for compiled in rules}
    for label, article in zip(labelled, enriched, strict=True):
        fired = {match.rule.id: match for match in evaluate(rules, article)}
        for compiled in rules:
            score = scores[compiled.rule.id]
            wanted, match = compiled.rule.id in label.rules, fired.get(compiled.rule.id)
            if wanted and match is not None:
                score.true_positives += 1
            elif match is not None:
                score.false_positives += 1
                score.misses.append(Miss(label.id, label.kind, "false_positive",
                                         [sentence.text for sentence in match.sentences],
                                         [f"{event.kind} '{event.action.text}' on '{event.object.text}'"
                                          for event in match.events or []]))
            elif wanted:
                score.false_negatives += 1
                rejected = compiled.rejected_events(ArticleWords(article))
                sentences = [text for text in dict.fromkeys(
                    _sentence_text(article, finding.sentence) for finding in rejected)]
                shown = [label.sentence] if label.sentence else sentences or [_shortened(article.text)]
                score.misses.append(Miss(label.id, label.kind, "false_negative", shown,
                                         [f"{finding.kind} '{_at(article, finding.action)}': {finding.rejected}"
                                          for finding in rejected]))
    return list(scores.values())


def _sentence_text(article: EnrichedArticle, index: int) -> str:
    sentence = article.sentences[index]
    return article.text[sentence.start:sentence.end].strip()


def _at(article: EnrichedArticle, offsets: tuple[int, int]) -> str:
    return article.text[offsets[0]:offsets[1]]


def _shortened(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS - 3] + "..."


@dataclass(frozen=True)
class Evaluation:
    """The scores over every labelled article, and over those of each language (the language the
    ner stage gave the article: identified, else declared; "unknown" when neither)."""

    articles: int
    scores: list[RuleScore]
    by_language: dict[str, list[RuleScore]]


def evaluate_labels(path: Path | list[Path], rules: list[CompiledRule],
                    settings: Settings) -> tuple[int, list[RuleScore]]:
    """(articles, scores) for the labels file(s) at ``path``. Raises ``LabelFileError``, and ``EmptyArticle``
    for a text that cleanup empties."""
    evaluation = evaluate_languages([path] if isinstance(path, Path) else path, rules, settings)
    return evaluation.articles, evaluation.scores


def evaluate_languages(paths: list[Path], rules: list[CompiledRule], settings: Settings) -> Evaluation:
    """The scores for the labels files at ``paths``, overall and per language; ids must be unique across files."""
    from newsmon.offline import OfflineNer

    rule_ids = {compiled.rule.id for compiled in rules}
    labelled: list[LabelLine] = []
    articles: list[RawArticle] = []
    for path in paths:
        for label in read_labels(path, rule_ids):
            if any(label.id == earlier.id for earlier in labelled):
                raise LabelFileError(f"{path}: id {label.id!r} is used in an earlier labels file too")
            labelled.append(label)
            articles.append(label.article(path.name))
    enriched = OfflineNer(settings).enrich(articles)
    languages: dict[str, list[int]] = {}
    for index, article in enumerate(enriched):
        languages.setdefault(article.language or "unknown", []).append(index)
    by_language = {language: score_rules([labelled[index] for index in indexes],
                                         [enriched[index] for index in indexes], rules)
                   for language, indexes in sorted(languages.items())}
    return Evaluation(len(labelled), score_rules(labelled, enriched, rules), by_language)


def language_lines(by_language: dict[str, list[RuleScore]]) -> list[str]:
    """One line per language and rule: the figures of the articles in that language."""
    lines = ["by language:"]
    for language, scores in by_language.items():
        for score in scores:
            precision = _ratio(score.precision, score.true_positives, score.false_positives)
            recall = _ratio(score.recall, score.true_positives, score.false_negatives)
            lines.append(f"  {language} {score.rule_id}: precision {precision}  recall {recall}")
    return lines


def report_lines(articles: int, scores: list[RuleScore]) -> list[str]:
    """The text report: one line per rule, then its misses with their sentences and reasons."""
    lines = [f"{articles} labelled articles"]
    for score in scores:
        precision = _ratio(score.precision, score.true_positives, score.false_positives)
        recall = _ratio(score.recall, score.true_positives, score.false_negatives)
        lines.append(f"{score.rule_id}: precision {precision}  recall {recall}")
        for miss in score.misses:
            label = "false positive" if miss.miss == "false_positive" else "false negative"
            lines.append(f"  {label}: {miss.article_id}" + (f" ({miss.label_kind})" if miss.label_kind else ""))
            verb = "fired on" if miss.miss == "false_positive" else "should fire on"
            lines += [f"    {verb}: {sentence}" for sentence in miss.sentences]
            lines += [f"      {reason}" for reason in miss.reasons]
    return lines


def _ratio(value: float | None, hits: int, others: int) -> str:
    return f"n/a ({hits}/{hits + others})" if value is None else f"{value:.2f} ({hits}/{hits + others})"


def rules_eval_command(
    labels: Annotated[list[Path], typer.Option(
        "--labels", help="Labelled articles, one JSON object per line; repeat for several files.")],
    rules: Annotated[Optional[Path], typer.Option("--rules", help="Rule file (default: the configured one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object with every rule's figures.")] = False,
) -> None:
    """Precision, recall and misses of each rule on labelled articles, through the same NER and matching
    as the alerter."""
    # Imported here so that other commands do not pay for loading spaCy.
    from services.alerter.rule_engine.aliases import AliasFileError
    from services.alerter.rule_engine.events.sentence_parse import ParserNotInstalled
    from services.alerter.rule_engine.matching import compile_rules
    from services.alerter.rule_engine.rules import RuleFileError, load_rules
    from services.dedupe.cleanup import EmptyArticle
    from services.ner.pipeline import ModelNotInstalled
    from shared.settings import get_settings

    settings = get_settings()
    try:
        compiled = compile_rules(load_rules(rules or settings.rules_path))
        evaluation = evaluate_languages(labels, compiled, settings)
    except (RuleFileError, AliasFileError, LabelFileError, EmptyArticle, ModelNotInstalled,
            ParserNotInstalled) as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps({
            "labels": str(labels[0]) if len(labels) == 1 else [str(path) for path in labels],
            "articles": evaluation.articles, "rules": [score.as_dict() for score in evaluation.scores],
            "languages": {language: [score.as_dict() for score in scores]
                          for language, scores in evaluation.by_language.items()},
        }))
    else:
        typer.echo("\n".join(report_lines(evaluation.articles, evaluation.scores)
                              + language_lines(evaluation.by_language)))
