"""Unique articles to enriched messages: the pure core of the ner service and of ``newsmon ner``.

One ``enrich`` call is one micro-batch, in three steps: ``plan`` identifies every article's language
and caps its text; ``annotate`` sends the texts of each language through their pipeline's
``nlp.pipe`` together (``pipelines.py``: a trained pipeline for English and French, spaCy's rules and
the watched names for the others) and takes sentences, mentions and lemmas out of each doc;
``finish`` builds canonical mentions and the entity summary around them. The service runs
``annotate`` in worker processes and the other two steps beside its event loop (``workers.py``).
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from spacy.language import Language
from spacy.tokens import Doc

from services.ner.canonical import FoundMention, canonical_mentions, summarize
from services.ner.language import article_language, detect_language
from services.ner.pipeline import ModelNotInstalled, PatternFileError, load_pipeline
from services.ner.pipelines import LanguagePipeline, NerMode, Pipelines
from shared.schemas import WORD, EnrichedArticle, ModelInfo, Sentence, UniqueArticle

__all__ = ["DEFAULT_MAX_CHARS", "Annotation", "ModelNotInstalled", "PatternFileError", "Pipelines", "Planned",
           "annotate", "enrich", "finish", "load_pipeline", "plan", "truncate"]

DEFAULT_MAX_CHARS = 100_000
_LINE = re.compile(r"[^\n]+")
# Labels of other pipelines written as the English pipeline's, so rules and consumers see one set:
# the French models' WikiNER labels are PER, LOC, ORG and MISC.
_LABELS = {"PER": "PERSON"}


@dataclass(frozen=True)
class Planned:
    """What to annotate of one article and in which language: decided in the service's process, where
    the article is, and sent to whichever process holds the pipelines."""

    text: str  # the article's text, capped at ``max_chars``
    language: str | None
    detected: str | None
    planning_ms: float


class Annotation(NamedTuple):
    """What spaCy found in one text, as plain data: all a worker process sends back (tuples pickle fastest;
    a Doc would cost more to send than to build). ``finish`` makes the enriched article of it."""

    mode: NerMode
    model: ModelInfo
    sentences: list[tuple[int, int]]
    found: list[FoundMention]
    lemmas: list[tuple[int, str]]
    ner_ms: float  # the text's share, by length, of the spaCy time of its batch


def truncate(text: str, max_chars: int) -> str:
    """The first ``max_chars`` characters, cut back to a word boundary when one is near the end."""
    if len(text) <= max_chars:
        return text
    window = max_chars - max_chars // 10
    cut = max(text.rfind(" ", window, max_chars), text.rfind("\n", window, max_chars))
    return text[:cut if cut > 0 else max_chars]


def plan(article: UniqueArticle, max_chars: int) -> Planned:
    """The text to annotate (capped at ``max_chars``) and its language (``language.py``)."""
    started = time.perf_counter()
    text = truncate(article.text, max_chars)
    detected = detect_language(text)
    return Planned(text, article_language(article.language, detected), detected,
                   (time.perf_counter() - started) * 1000)


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


def _found_mentions(doc: Doc, text: str, sentence_starts: list[int]) -> Iterator[FoundMention]:
    """Entities as found, each kept to its first line (an entity never crosses a sentence); a watched
    name carries its pattern's canonical name. ``text`` is the doc's text (``Span.text`` rebuilds it)."""
    for ent in doc.ents:
        written = text[ent.start_char:ent.end_char].split("\n", 1)[0].rstrip()
        if written.strip():
            sentence = max(bisect_right(sentence_starts, ent.start_char) - 1, 0)
            yield FoundMention(written, _LABELS.get(ent.label_, ent.label_), ent.start_char,
                               ent.start_char + len(written), sentence, ent.ent_id_ or None)


def _lemmas(doc: Doc) -> list[tuple[int, str]]:
    """(start, lowercase lemma) of each word whose lemma differs from it; words as the alerter splits text.

    Read from the doc's arrays, not token by token: a Token object per word cost more than the rest
    of what is taken from the doc."""
    strings = doc.vocab.strings
    found = []
    for start, lower_key, lemma_key in doc.to_array(["IDX", "LOWER", "LEMMA"]).tolist():
        if lemma_key != lower_key:
            lower, lemma = strings[lower_key], strings[lemma_key].lower()
            if lemma != lower and WORD.fullmatch(lower) and WORD.fullmatch(lemma):
                found.append((start, lemma))
    return found


def annotate(pipelines: Pipelines, planned: Sequence[Planned], batch_size: int) -> list[Annotation]:
    """One ``nlp.pipe`` pass per pipeline over the texts that need one, the annotations in input order.

    Runs where the pipelines are: in ``enrich`` below, or in a worker process of the ner service.
    """
    started = time.perf_counter()
    chosen = [pipelines.for_language(item.language) if item.text.strip() else None for item in planned]
    docs: dict[int, Doc] = {}
    by_pipeline: dict[int, list[int]] = {}
    for index, pipeline in enumerate(chosen):
        if pipeline is not None:
            by_pipeline.setdefault(id(pipeline.nlp), []).append(index)
    for indexes in by_pipeline.values():
        pipeline = chosen[indexes[0]]
        assert pipeline is not None
        texts = (planned[index].text for index in indexes)
        docs.update(zip(indexes, pipeline.nlp.pipe(texts, batch_size=batch_size), strict=True))
    spacy_ms = (time.perf_counter() - started) * 1000
    total_chars = sum(len(item.text) for item in planned) or 1
    return [_annotation(item, chosen[index], docs.get(index), pipelines.primary_info,
                        spacy_ms * len(item.text) / total_chars)
            for index, item in enumerate(planned)]


def _annotation(item: Planned, pipeline: LanguagePipeline | None, doc: Doc | None, primary: ModelInfo,
                ner_ms: float) -> Annotation:
    if pipeline is None or doc is None:  # blank text has no doc
        return Annotation("none", primary, [], [], [], ner_ms)
    sentences = list(_sentence_spans(doc, item.text))
    found = list(_found_mentions(doc, item.text, [start for start, _ in sentences]))
    lemmas = _lemmas(doc) if "lemmatizer" in pipeline.nlp.pipe_names else []
    return Annotation(pipeline.mode, pipeline.info, sentences, found, lemmas, ner_ms)


def finish(article: UniqueArticle, planned: Planned, annotation: Annotation) -> EnrichedArticle:
    """The enriched article: canonical mentions and the entity summary built around the annotation."""
    started = time.perf_counter()
    mentions = canonical_mentions(annotation.found, planned.text)
    enriched = EnrichedArticle(
        **{**article.model_dump(), "language": planned.language},
        sentences=[Sentence(start=start, end=end) for start, end in annotation.sentences], mentions=mentions,
        entities=summarize(mentions, article.title), lemmas=annotation.lemmas, model=annotation.model,
        text_truncated=len(planned.text) < len(article.text), ner_ms=round(annotation.ner_ms, 3),
        language_detected=planned.detected, ner_mode=annotation.mode, annotated_chars=len(planned.text),
    )
    enriched.enrich_ms = round(annotation.ner_ms + planned.planning_ms + (time.perf_counter() - started) * 1000, 3)
    return enriched


def enrich(
    nlp: Language | Pipelines, articles: Sequence[UniqueArticle], batch_size: int = 16,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> list[EnrichedArticle]:
    """Enrich a micro-batch of articles, in their order: ``plan``, ``annotate`` and ``finish`` in this process.

    ``nlp`` is the pipelines by language, or one pipeline (then every other language gets spaCy's
    rules and the watched names). Texts longer than ``max_chars`` are annotated up to there
    (``text_truncated``); text in a language without a trained pipeline gets sentences, watched
    names and lookup lemmas only (``ner_mode`` patterns_only); blank text gets no annotation.
    ``ner_ms`` is each article's share, by length, of the spaCy time.
    """
    pipelines = nlp if isinstance(nlp, Pipelines) else Pipelines(nlp)
    planned = [plan(article, max_chars) for article in articles]
    annotations = annotate(pipelines, planned, batch_size)
    return [finish(article, item, annotation)
            for article, item, annotation in zip(articles, planned, annotations, strict=True)]
