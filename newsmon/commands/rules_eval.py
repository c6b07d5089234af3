"""``newsmon rules eval --labels FILE.jsonl``: how well each rule fires on labelled articles, and where it misses.

The labelled articles are labels files, or references with ``--texts DIR`` (``eval_labels``); with
several files the figures are for all of them, and again for each language the articles are in. They
go through the same cleanup, NER and rule matching as the pipeline (``newsmon.offline``), then each
rule is scored: precision (of the articles it fired on, how many it should have) and recall (of the
articles it should fire on, how many it did), with every miss: a false positive with the sentence
that fired, a false negative with the sentences where its event conditions found an event and why
they rejected it (or the label's ``sentence``), each with the label's own ``reason``. Recall by
story counts a story served when any of its articles fired, since a user hears of a story from
any of its copies.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional

import typer

from newsmon.commands.eval_labels import LabelFileError, LabelLine, read_labels

if TYPE_CHECKING:
    from services.alerter.rule_engine.matching import CompiledRule
    from shared.schemas import EnrichedArticle, RawArticle
    from shared.settings import Settings

MissKind = Literal["false_positive", "false_negative"]
_SHOWN_CHARS = 240


@dataclass(frozen=True)
class Miss:
    """One article a rule got wrong, with what explains it."""

    article_id: str
    label_kind: str
    miss: MissKind
    sentences: list[str]
    reasons: list[str] = field(default_factory=list)
    label_reason: str = ""
    story: str | None = None


@dataclass
class RuleScore:
    """Counts over the labelled articles for one rule, and which stories it served."""

    rule_id: str
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    misses: list[Miss] = field(default_factory=list)
    story_pages: dict[str, int] = field(default_factory=dict)  # story -> its articles that must fire
    stories_served: set[str] = field(default_factory=set)

    @property
    def precision(self) -> float | None:
        fired = self.true_positives + self.false_positives
        return self.true_positives / fired if fired else None

    @property
    def recall(self) -> float | None:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else None

    @property
    def story_recall(self) -> float | None:
        """Of the stories the rule must fire on, how many it fired on at least once."""
        return len(self.stories_served) / len(self.story_pages) if self.story_pages else None

    @property
    def stories_missed(self) -> list[str]:
        return sorted(set(self.story_pages) - self.stories_served)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule_id, "precision": self.precision, "recall": self.recall,
                "true_positives": self.true_positives, "false_positives": self.false_positives,
                "false_negatives": self.false_negatives, "story_recall": self.story_recall,
                "stories": len(self.story_pages), "stories_served": len(self.stories_served),
                "stories_missed": self.stories_missed,
                "misses": [{"id": miss.article_id, "kind": miss.label_kind, "miss": miss.miss,
                            "sentences": miss.sentences, "reasons": miss.reasons,
                            "label_reason": miss.label_reason, "story": miss.story} for miss in self.misses]}


def score_rules(labelled: list[LabelLine], enriched: list[EnrichedArticle],
                rules: list[CompiledRule]) -> list[RuleScore]:
    """Precision, recall and misses of each rule over the labelled articles (``enriched`` in the same order)."""
    from services.alerter.rule_engine.matching import evaluate

    scores = {compiled.rule.id: RuleScore(compiled.rule.id) for compiled in rules}
    for label, article in zip(labelled, enriched, strict=True):
        fired = {match.rule.id: match for match in evaluate(rules, article)}
        for compiled in rules:
            score = scores[compiled.rule.id]
            wanted, match = compiled.rule.id in label.rules, fired.get(compiled.rule.id)
            if wanted:
                score.story_pages[label.story_key] = score.story_pages.get(label.story_key, 0) + 1
            if wanted and match is not None:
                score.true_positives += 1
                score.stories_served.add(label.story_key)
            elif match is not None:
                score.false_positives += 1
                score.misses.append(Miss(label.id, label.kind, "false_positive",
                                         [sentence.text for sentence in match.sentences],
                                         [f"{event.kind} '{event.action.text}' on '{event.object.text}'"
                                          + (f" ({event.scope})" if event.scope else "")
                                          for event in match.events or []], label.reason, label.story))
            elif wanted:
                score.false_negatives += 1
                score.misses.append(_false_negative(compiled, label, article))
    return list(scores.values())


def _false_negative(compiled: CompiledRule, label: LabelLine, article: EnrichedArticle) -> Miss:
    from services.alerter.rule_engine.article_words import ArticleWords

    words = ArticleWords(article)
    rejected = compiled.rejected_events(words)
    sentences = [text for text in dict.fromkeys(_sentence_text(article, finding.sentence) for finding in rejected)]
    shown = [label.sentence] if label.sentence else sentences or [_shortened(article.text)]
    reasons = [f"{finding.kind} '{_at(article, finding.action)}': {finding.rejected}" for finding in rejected]
    return Miss(label.id, label.kind, "false_negative", shown,
                reasons + compiled.silences(words) if compiled.event_nodes else ["no sentence satisfies the condition"],
                label.reason, label.story)


def _sentence_text(article: EnrichedArticle, index: int) -> str:
    sentence = article.sentences[index]
    return article.text[sentence.start:sentence.end].strip()


def _at(article: EnrichedArticle, offsets: tuple[int, int]) -> str:
    return article.text[offsets[0]:offsets[1]]


def _shortened(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS - 3] + "..."


@dataclass(frozen=True)
class Evaluation:
    """The scores over every labelled article, and over those of each language (the language the
    ner stage gave the article: identified, else declared; "unknown" when neither)."""

    articles: int
    scores: list[RuleScore]
    by_language: dict[str, list[RuleScore]]


def evaluate_labels(path: Path | list[Path], rules: list[CompiledRule], settings: Settings,
                    texts: Path | None = None) -> tuple[int, list[RuleScore]]:
    """(articles, scores) for the labels file(s) at ``path`` (references with their texts in ``texts``).
    Raises ``LabelFileError``, and ``EmptyArticle`` for a text that cleanup empties."""
    evaluation = evaluate_languages([path] if isinstance(path, Path) else path, rules, settings, texts)
    return evaluation.articles, evaluation.scores


def evaluate_languages(paths: list[Path], rules: list[CompiledRule], settings: Settings,
                       texts: Path | None = None) -> Evaluation:
    """The scores for the labels files at ``paths``, overall and per language; ids must be unique across files."""
    from newsmon.offline import OfflineNer

    rule_ids = {compiled.rule.id for compiled in rules}
    labelled: list[LabelLine] = []
    articles: list[RawArticle] = []
    for path in paths:
        for label in read_labels(path, rule_ids, texts):
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
    """The text report: per rule its figures, recall by story, then its misses with their sentences and reasons."""
    lines = [f"{articles} labelled articles"]
    for score in scores:
        precision = _ratio(score.precision, score.true_positives, score.false_positives)
        recall = _ratio(score.recall, score.true_positives, score.false_negatives)
        lines.append(f"{score.rule_id}: precision {precision}  recall {recall}")
        shared = sum(pages > 1 for pages in score.story_pages.values())
        if shared:
            served = len(score.stories_served)
            lines.append(f"  recall by story: {_ratio(score.story_recall, served, len(score.story_pages) - served)}"
                         f" ({shared} stories with several articles)")
            lines += [f"  story missed: {story}" for story in score.stories_missed]
        for miss in score.misses:
            label = "false positive" if miss.miss == "false_positive" else "false negative"
            lines.append(f"  {label}: {miss.article_id}" + (f" ({miss.label_kind})" if miss.label_kind else ""))
            if miss.label_reason:
                lines.append(f"    label: {miss.label_reason}")
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
    texts: Annotated[Optional[Path], typer.Option(
        "--texts", help="Folder of <id>.txt texts: --labels is then a references file.")] = None,
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
        evaluation = evaluate_languages(labels, compiled, settings, texts)
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
