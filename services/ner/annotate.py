"""Unique articles to enriched messages: the pure core of the ner service and of ``newsmon ner``.

One ``enrich`` call is one micro-batch: every article's language is identified, its text capped,
and all texts go through ``nlp.pipe`` together (English ones with the full pipeline, others with
the watched-name patterns only); then sentences, canonical mentions and the entity summary are
built around each doc.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from spacy.language import Language
from spacy.tokens import Doc

from services.ner.canonical import FoundMention, canonical_mentions, summarize
from services.ner.language import article_language, detect_language
from services.ner.pipeline import (
    LEMMA_COMPONENTS,
    ModelNotInstalled,
    PatternFileError,
    load_pipeline,
    model_info,
)
from shared.schemas import WORD, EnrichedArticle, ModelInfo, Sentence, UniqueArticle

__all__ = ["DEFAULT_MAX_CHARS", "ModelNotInstalled", "PatternFileError", "enrich", "load_pipeline", "truncate"]

NerMode = Literal["full", "patterns_only", "none"]
DEFAULT_MAX_CHARS = 100_000
_LINE = re.compile(r"[^\n]+")
_STATISTICAL_NER = "ner"


@dataclass(frozen=True)
class _Plan:
    """What to do with one article: which part of its text, in which language, with which mode."""

    article: UniqueArticle
    text: str
    language: str | None
    detected: str | None
    mode: NerMode
    planning_ms: float


def truncate(text: str, max_chars: int) -> str:
    """The first ``max_chars`` characters, cut back to a word boundary when one is near the end."""
    if len(text) <= max_chars:
        return text
    window = max_chars - max_chars // 10
    cut = max(text.rfind(" ", window, max_chars), text.rfind("\n", window, max_chars))
    return text[:cut if cut > 0 else max_chars]


def _plan(article: UniqueArticle, pipeline_language: str, max_chars: int) -> _Plan:
    started = time.perf_counter()
    text = truncate(article.text, max_chars)
    detected = detect_language(text)
    language = article_language(article.language, detected)
    if not text.strip():
        mode: NerMode = "none"
    elif language in (None, pipeline_language):
        mode = "full"
    else:
        mode = "patterns_only"
    return _Plan(article, text, language, detected, mode, (time.perf_counter() - started) * 1000)


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
    """Entities as found, each kept to its first line (an entity never crosses a sentence)."""
    for ent in doc.ents:
        text = ent.text.split("\n", 1)[0].rstrip()
        if text.strip():
            sentence = max(bisect_right(sentence_starts, ent.start_char) - 1, 0)
            yield FoundMention(text, ent.label_, ent.start_char, ent.start_char + len(text), sentence)


def _lemmas(doc: Doc) -> list[tuple[int, str]]:
    """(start, lowercase lemma) of each word whose lemma differs from it; words as the alerter splits text."""
    found = []
    for token in doc:
        lemma = token.lemma_.lower()
        if lemma != token.lower_ and WORD.fullmatch(token.lower_) and WORD.fullmatch(lemma):
            found.append((token.idx, lemma))
    return found


def _annotate(nlp: Language, plans: Sequence[_Plan], batch_size: int) -> dict[int, Doc]:
    """One ``nlp.pipe`` pass per mode over the texts that need it, keyed by position in ``plans``."""
    docs: dict[int, Doc] = {}
    for mode, disable in (("full", []), ("patterns_only", [_STATISTICAL_NER, *LEMMA_COMPONENTS])):
        indexes = [index for index, plan in enumerate(plans) if plan.mode == mode]
        if not indexes:
            continue
        texts = (plans[index].text for index in indexes)
        disabled = [name for name in disable if name in nlp.pipe_names]
        docs.update(zip(indexes, nlp.pipe(texts, batch_size=batch_size, disable=disabled), strict=True))
    return docs


def _enriched(plan: _Plan, doc: Doc | None, info: ModelInfo, ner_ms: float) -> EnrichedArticle:
    started = time.perf_counter()
    sentences: list[Sentence] = []
    found: list[FoundMention] = []
    lemmas: list[tuple[int, str]] = []
    if doc is not None:  # blank text has no doc
        sentences = [Sentence(start=start, end=end) for start, end in _sentence_spans(doc, plan.text)]
        found = list(_found_mentions(doc, [sentence.start for sentence in sentences]))
        lemmas = _lemmas(doc) if plan.mode == "full" else []
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
    nlp: Language, articles: Sequence[UniqueArticle], batch_size: int = 16, max_chars: int = DEFAULT_MAX_CHARS
) -> list[EnrichedArticle]:
    """Enrich a micro-batch of articles, in their order.

    Texts longer than ``max_chars`` are annotated up to there (``text_truncated``); text in another
    language than the pipeline's gets sentences and watched names only (``ner_mode``); blank text
    gets no annotation. ``ner_ms`` is each article's share, by length, of the spaCy time.
    """
    plans = [_plan(article, nlp.lang or "", max_chars) for article in articles]
    started = time.perf_counter()
    docs = _annotate(nlp, plans, batch_size)
    spacy_ms = (time.perf_counter() - started) * 1000
    total_chars = sum(len(plan.text) for plan in plans) or 1
    info = model_info(nlp)
    return [
        _enriched(plan, docs.get(index), info, spacy_ms * len(plan.text) / total_chars)
        for index, plan in enumerate(plans)
    ]
