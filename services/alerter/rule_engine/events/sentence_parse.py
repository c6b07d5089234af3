"""Dependency parses of single sentences, for event conditions: made on demand, cached per sentence.

The ner stage does not parse (its pipeline runs a sentence recognizer instead of the dependency
parser, which is the costly part of spaCy), so the rule engine parses only the few sentences an
event condition could hold in, with the same spaCy pipeline as the ner stage (its parser, tagger
and lemmatizer; no NER). A parse is reduced to plain tuples (``ParsedSentence``), which is what the
event code reads, what the cache keeps, and what tests can build.

The cache is keyed by sentence text and bounded, so copies of a story from other outlets and
redelivered articles cost a dictionary lookup; it lives in one process (each alerter instance
and each offline command has its own).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Protocol

from shared.settings import get_settings

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

DEFAULT_CACHE_SENTENCES = 4096
# What a parse needs; the rest of the ner pipeline (ner, senter, the entity ruler) is left out.
# (French has a morphologizer where English has a tagger.)
_PARSE_COMPONENTS = ("tok2vec", "tagger", "morphologizer", "parser", "attribute_ruler", "lemmatizer")


class ParserNotInstalled(RuntimeError):
    """The configured spaCy pipeline is missing, or has no parser; the message says what to install."""


@dataclass(frozen=True)
class ParsedToken:
    """One token: its character range in the sentence, forms, part of speech, and dependency arc."""

    index: int
    start: int
    end: int
    text: str
    lemma: str  # lowercase
    pos: str  # universal part of speech: VERB, NOUN, ADJ, ...
    tag: str  # fine-grained (Penn) tag: VBD, VBN, NNS, ...
    dep: str  # dependency label: nsubj, dobj, prep, pobj, acl, relcl, neg, ...
    head: int  # index of the head token; a root is its own head
    norm: str = ""  # in another language, the English word this one is read as ("contre": "against")

    @property
    def lower(self) -> str:
        return self.norm or self.text.lower()

    @property
    def is_verb(self) -> bool:
        return self.pos in ("VERB", "AUX") or self.tag.startswith("VB")


Phrase = tuple[ParsedToken, ...]


@dataclass(frozen=True)
class ParsedSentence:
    """A sentence as tokens with heads; navigation helpers for the event code."""

    text: str
    tokens: tuple[ParsedToken, ...]

    @cached_property
    def children(self) -> tuple[tuple[ParsedToken, ...], ...]:
        """The dependents of each token, in sentence order."""
        found: list[list[ParsedToken]] = [[] for _ in self.tokens]
        for token in self.tokens:
            if token.head != token.index:
                found[token.head].append(token)
        return tuple(tuple(kids) for kids in found)

    def head(self, token: ParsedToken) -> ParsedToken | None:
        """The token's head; None for a root."""
        return None if token.head == token.index else self.tokens[token.head]

    def ancestors(self, token: ParsedToken) -> list[ParsedToken]:
        """Heads of heads up to the root, nearest first (a malformed cycle ends the walk)."""
        found: list[ParsedToken] = []
        seen = {token.index}
        current = self.head(token)
        while current is not None and current.index not in seen:
            found.append(current)
            seen.add(current.index)
            current = self.head(current)
        return found

    def head_of(self, tokens: Phrase) -> ParsedToken:
        """The token of a phrase whose head lies outside it ("stepped" in "stepped up")."""
        inside = {token.index for token in tokens}
        return next((token for token in tokens if token.head not in inside or token.head == token.index), tokens[-1])

    def is_passive(self, verb: ParsedToken) -> bool:
        return any(kid.dep in ("auxpass", "nsubjpass") for kid in self.children[verb.index])

    def subtree(self, token: ParsedToken, keep: Callable[[ParsedToken], bool] = lambda _: True) -> list[ParsedToken]:
        """The token and everything it governs, in sentence order; a dependent for which ``keep`` is
        false is left out with everything under it."""
        found, pending = [], [token]
        while pending:
            current = pending.pop()
            found.append(current)
            pending.extend(kid for kid in self.children[current.index] if keep(kid))
        return sorted(found, key=lambda item: item.index)


def unique(tokens: list[ParsedToken]) -> list[ParsedToken]:
    """The tokens without repeats, in first-seen order."""
    seen: dict[int, ParsedToken] = {}
    for token in tokens:
        seen.setdefault(token.index, token)
    return list(seen.values())


class SentenceParser(Protocol):
    """Parses one sentence; ``SpacySentenceParser`` in the services, anything equivalent in tests."""

    def __call__(self, sentence: str) -> ParsedSentence: ...


def parsed(doc: Doc) -> ParsedSentence:
    """A spaCy doc as a ``ParsedSentence`` (a doc the parser split in two keeps both roots)."""
    return ParsedSentence(doc.text, tuple(
        ParsedToken(index=token.i, start=token.idx, end=token.idx + len(token.text), text=token.text,
                    lemma=token.lemma_.lower(), pos=token.pos_, tag=token.tag_, dep=token.dep_, head=token.head.i)
        for token in doc
    ))


class SpacySentenceParser:
    """The configured spaCy pipeline's parser, loaded on the first sentence, with an LRU cache.

    Loading takes a second or two; ``warm_up`` does it ahead (the alerter calls it at start when a
    rule has an event condition). Safe to call from several threads. ``read`` turns a parsed doc
    into what the event code reads (``parsed``; another language's parse is read in the English
    scheme by ``languages.read_parse``).
    """

    def __init__(self, model: str, cache_sentences: int = DEFAULT_CACHE_SENTENCES,
                 read: Callable[[Doc], ParsedSentence] | None = None) -> None:
        self.model = model
        self.read = read or parsed
        self.cache_sentences = cache_sentences
        self._cache: OrderedDict[str, ParsedSentence] = OrderedDict()
        self._nlp: Language | None = None
        self._lock = threading.Lock()
        self.parses = 0

    def warm_up(self) -> None:
        """Load the pipeline now rather than on the first sentence."""
        self.pipeline()

    def __call__(self, sentence: str) -> ParsedSentence:
        with self._lock:
            found = self._cache.get(sentence)
            if found is not None:
                self._cache.move_to_end(sentence)
                return found
            found = self.read(self.pipeline()(sentence))
            self.parses += 1
            self._cache[sentence] = found
            if len(self._cache) > self.cache_sentences:
                self._cache.popitem(last=False)
            return found

    def pipeline(self) -> Language:
        """The spaCy pipeline the parses come from (tagger, parser, lemmatizer), loaded on first use."""
        if self._nlp is None:
            import spacy  # here, so that a process without event conditions never loads spaCy (about 60 MB)

            try:
                nlp = spacy.load(self.model, exclude=["ner", "senter", "textcat", "textcat_multilabel"])
            except OSError as error:
                raise ParserNotInstalled(
                    f"spaCy pipeline {self.model!r} is not installed (setting NEWSMON_SPACY_MODEL); "
                    "run `make install` or pip install it"
                ) from error
            missing = [name for name in ("parser", "lemmatizer") if name not in nlp.pipe_names]
            if missing:
                raise ParserNotInstalled(f"spaCy pipeline {self.model!r} has no {' or '.join(missing)}, "
                                        "which event conditions need")
            for name in nlp.pipe_names:
                if name not in _PARSE_COMPONENTS:
                    nlp.disable_pipe(name)
            self._nlp = nlp
        return self._nlp


@lru_cache(maxsize=1)
def configured_parser() -> SpacySentenceParser:
    """The process's parser, for the configured spaCy pipeline (``NEWSMON_SPACY_MODEL``), made once."""
    return SpacySentenceParser(get_settings().spacy_model)
