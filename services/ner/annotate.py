"""Unique articles to enriched messages: the pure core of the ner service and of ``newsmon ner``.

One ``enrich`` call is one micro-batch: every article's language is identified, its text capped,
and the texts of each language go through their pipeline's ``nlp.pipe`` together (``pipelines.py``:
a trained pipeline for English and French, spaCy's rules and the watched names for the others);
then sentences, canonical mentions and the entity summary are built around each doc.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc

from services.ner.canonical import FoundMention, canonical_mentions, summarize
from services.ner.language import article_language, detect_language
from services.ner.pipeline import ModelNotInstalled, PatternFileError, load_pipeline
from services.ner.pipelines import LanguagePipeline, NerMode, Pipelines
from shared.schemas import WORD, EnrichedArticle, ModelInfo, Sentence, UniqueArticle

__all__ = ["DEFAULT_MAX_CHARS", "ModelNotInstalled", "PatternFileError", "Pipelines", "enrich", "load_pipeline",
           "truncate"]

DEFAULT_MAX_CHARS = 100_000
_LINE = re.compile(r"[^\n]+")
# Labels of other pipelines written as the English pipeline's, so rules and consumers see one set:
# the French models' WikiNER labels are PER, LOC, ORG and MISC.
_LABELS = {"PER": "PERSON"}


@dataclass(frozen=True)
class _Plan:
    """What to do with one article: which part of its text, in which language, through which pipeline."""

    article: UniqueArticle
    text: str
    language: str | None
    detected: str | None
    pipeline: LanguagePipeline | None  # None for blank text
    planning_ms: float

    @property
    def mode(self) -> NerMode:
        return "none" if self.pipeline is None else self.pipeline.mode


def truncate(text: str, max_chars: int) -> str:
    """The first ``max_chars`` characters, cut back to a word boundary when one is near the end."""
    if len(text) <= max_chars:
        return text
    window = max_chars - max_chars // 10
    cut = max(text.rfind(" ", window, max_chars), text.rfind("\n", window, max_chars))
    return text[:cut if cut > 0 else max_chars]


def _plan(article: UniqueArticle, pipelines: Pipelines, max_chars: int) -> _Plan:
    started = time.perf_counter()
    text = truncate(article.text, max_chars)
    detected = detect_language(text)
    language = article_language(article.language, detected)
    pipeline = pipelines.for_language(language) if text.strip() else None
    return _Plan(article, text, language, detected, pipeline, (time.perf_counter() - started) * 1000)


def _sentence_spans(doc: Doc, text: str) -> Iterator[tuple[int, int]]:
    """spaCy's sentences, cut again at line breaks: scraped text puts headlines, captions and
    paragraphs on their own lines without final punctuation, and a sentence never spans them.

    ``text`` is the doc's text; ``Doc.text`` would rebuild it from the tokens on every access.
    """
    for sent in doc.sents:
        for line in _LINE.finditer(text, sent.start_char, sent.end_char):
            start, end = line.span()
            stripped = text[start:end].strip()
            if stripped:
                offset = text.index(stripped, start)
                yield offset, offset + len(stripped)


def _found_mentions(doc: Doc, sentence_starts: list[int]) -> Iterator[FoundMention]:
    """Entities as found, each kept to its first line (an entity never crosses a sentence); a watched
    name carries its pattern's canonical name."""
    for ent in doc.ents:
        text = ent.text.split("\n", 1)[0].rstrip()
        if text.strip():
            sentence = max(bisect_right(sentence_starts, ent.start_char) - 1, 0)
            yield FoundMention(text, _LABELS.get(ent.label_, ent.label_), ent.start_char,
                               ent.start_char + len(text), sentence, ent.ent_id_ or None)


def _lemmas(doc: Doc) -> list[tuple[int, str]]:
    """(start, lowercase lemma) of each word whose lemma differs from it; words as the alerter splits text."""
    found = []
    for token in doc:
        lemma = token.lemma_.lower()
        if lemma != token.lower_ and WORD.fullmatch(token.lower_) and WORD.fullmatch(lemma):
            found.append((token.idx, lemma))
    return found


def _annotate(plans: Sequence[_Plan], batch_size: int) -> dict[int, Doc]:
    """One ``nlp.pipe`` pass per pipeline over the texts that need it, keyed by position in ``plans``."""
    docs: dict[int, Doc] = {}
    by_pipeline: dict[int, list[int]] = {}
    for index, plan in enumerate(plans):
        if plan.pipeline is not None:
            by_pipeline.setdefault(id(plan.pipeline.nlp), []).append(index)
    for indexes in by_pipeline.values():
        pipeline = plans[indexes[0]].pipeline
        assert pipeline is not None
        texts = (plans[index].text for index in indexes)
        docs.update(zip(indexes, pipeline.nlp.pipe(texts, batch_size=batch_size), strict=True))
    return docs


def _enriched(plan: _Plan, doc: Doc | None, primary: ModelInfo, ner_ms: float) -> EnrichedArticle:
    started = time.perf_counter()
    sentences: list[Sentence] = []
    found: list[FoundMention] = []
    lemmas: list[tuple[int, str]] = []
    info = primary
    if doc is not None and plan.pipeline is not None:  # blank text has no doc
        info = plan.pipeline.info
        sentences = [Sentence(start=start, end=end) for start, end in _sentence_spans(doc, plan.text)]
        found = list(_found_mentions(doc, [sentence.start for sentence in sentences]))
        lemmas = _lemmas(doc) if "lemmatizer" in plan.pipeline.nlp.pipe_names else []
    mentions = canonical_mentions(found, plan.text)
    article = EnrichedArticle(
        **{**plan.article.model_dump(), "language": plan.language},
        sentences=sentences, mentions=mentions, entities=summarize(mentions, plan.article.title), lemmas=lemmas,
        model=info,
        text_truncated=len(plan.text) < len(plan.article.text), ner_ms=round(ner_ms, 3),
        language_detected=plan.detected, ner_mode=plan.mode, annotated_chars=len(plan.text),
    )
    article.enrich_ms = round(ner_ms + plan.planning_ms + (time.perf_counter() - started) * 1000, 3)
    return article


def enrich(
    nlp: Language | Pipelines, articles: Sequence[UniqueArticle], batch_size: int = 16,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> list[EnrichedArticle]:
    """Enrich a micro-batch of articles, in their order.

    ``nlp`` is the pipelines by language, or one pipeline (then every other language gets spaCy's
    rules and the watched names). Texts longer than ``max_chars`` are annotated up to there
    (``text_truncated``); text in a language without a trained pipeline gets sentences, watched
    names and lookup lemmas only (``ner_mode`` patterns_only); blank text gets no annotation.
    ``ner_ms`` is each article's share, by length, of the spaCy time.
    """
    pipelines = nlp if isinstance(nlp, Pipelines) else Pipelines(nlp)
    plans = [_plan(article, pipelines, max_chars) for article in articles]
    started = time.perf_counter()
    docs = _annotate(plans, batch_size)
    spacy_ms = (time.perf_counter() - started) * 1000
    total_chars = sum(len(plan.text) for plan in plans) or 1
    info = pipelines.primary_info
    return [
        _enriched(plan, docs.get(index), info, spacy_ms * len(plan.text) / total_chars)
        for index, plan in enumerate(plans)
    ]
