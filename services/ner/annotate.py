"""Sentences and entities from spaCy: the pure core of the ner service and of ``newsmon ner``."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence

import spacy
from spacy.language import Language
from spacy.tokens import Doc

from newsmon.shared.schemas import EnrichedArticle, Entity, Mention, ModelInfo, Sentence, UniqueArticle

# Components NER does not need; dropping them roughly halves the time per article.
_UNUSED_COMPONENTS = ("tagger", "attribute_ruler", "lemmatizer", "textcat", "textcat_multilabel")
MAX_CHARS = 100_000
_LINE = re.compile(r"[^\n]+")


class ModelNotInstalled(RuntimeError):
    """The configured spaCy pipeline is not installed."""


def load_pipeline(name: str) -> Language:
    """Load the spaCy pipeline ``name`` (a package name or a path) with only what NER needs."""
    try:
        nlp = spacy.load(name, exclude=list(_UNUSED_COMPONENTS))
    except OSError as error:
        raise ModelNotInstalled(
            f"spaCy pipeline {name!r} is not installed (setting NEWSMON_SPACY_MODEL); "
            "run `make install` or pip install it"
        ) from error
    if "parser" in nlp.pipe_names and "senter" in nlp.disabled:
        # The statistical sentence recognizer is much cheaper than the dependency parser.
        nlp.enable_pipe("senter")
        nlp.disable_pipe("parser")
    return nlp


def model_info(nlp: Language) -> ModelInfo:
    """Name and version of the pipeline, recorded on every enriched message."""
    return ModelInfo(name=f"{nlp.meta.get('lang', 'xx')}_{nlp.meta.get('name', 'unknown')}",
                     version=str(nlp.meta.get("version", "0")))


def _sentence_spans(doc: Doc) -> Iterator[tuple[int, int]]:
    """spaCy's sentences, cut again at line breaks: scraped text puts headlines, captions and
    paragraphs on their own lines without final punctuation, and a sentence never spans them."""
    for sent in doc.sents:
        for line in _LINE.finditer(sent.text):
            start, end = sent.start_char + line.start(), sent.start_char + line.end()
            stripped = doc.text[start:end].strip()
            if stripped:
                offset = doc.text.index(stripped, start)
                yield offset, offset + len(stripped)


def sentences_and_mentions(doc: Doc) -> tuple[list[Sentence], list[Mention]]:
    """Sentence offsets and entity mentions with the index of the sentence holding each."""
    sentences = [Sentence(start=start, end=end) for start, end in _sentence_spans(doc)]
    starts = [sentence.start for sentence in sentences]
    mentions = [
        Mention(text=ent.text, label=ent.label_, start=ent.start_char, end=ent.end_char,
                sentence=max(bisect_right(starts, ent.start_char) - 1, 0), canonical=ent.text)
        for ent in doc.ents
    ]
    return sentences, mentions


def summarize(mentions: list[Mention], text_length: int) -> list[Entity]:
    """One entry per (canonical name, label): mention count, first position, salience."""
    grouped: dict[tuple[str, str], list[Mention]] = {}
    for mention in mentions:
        grouped.setdefault((mention.canonical, mention.label), []).append(mention)
    entities = [
        Entity(name=name, label=label, mentions=len(group), first_start=group[0].start,
               salience=round(len(group) * (2.0 - group[0].start / max(text_length, 1)), 3))
        for (name, label), group in grouped.items()
    ]
    return sorted(entities, key=lambda entity: -entity.salience)


def enrich(nlp: Language, articles: Sequence[UniqueArticle], batch_size: int = 16) -> list[EnrichedArticle]:
    """Run one ``nlp.pipe`` pass over a batch of articles and build their enriched messages."""
    info = model_info(nlp)
    texts: Iterable[str] = (article.text[:MAX_CHARS] for article in articles)
    enriched = []
    for article, doc in zip(articles, nlp.pipe(texts, batch_size=batch_size), strict=True):
        sentences, mentions = sentences_and_mentions(doc)
        enriched.append(EnrichedArticle(
            **article.model_dump(), sentences=sentences, mentions=mentions,
            entities=summarize(mentions, len(doc.text)), model=info, text_truncated=len(article.text) > MAX_CHARS,
        ))
    return enriched
