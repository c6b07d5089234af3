"""An enriched article's words and entity mentions, indexed once per article for rule evaluation.

Every rule's terms then cost a few dictionary lookups instead of a scan of the text, and results
are cached per article, so a term shared by many rules ("new", "Iran") is looked up once.
Positions are word indexes into the article; a ``Span`` carries both the word range (for
proximity) and the character range (what the alert shows as the offsets of what matched).

Words in a script that attaches proclitics or writes a letter several ways (Arabic, Hebrew:
``shared/scripts.yaml``) are compared folded, and a term's first word also matches such a word
behind its proclitics: "رفح" finds "برفح" and "وفي رفح", "إيران" finds "ايران".
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Hashable
from functools import cached_property
from typing import Any, NamedTuple, TypeVar, cast

from shared.schemas import WORD, EnrichedArticle
from shared.scripts import fold, stems

_SUFFIXES = ("s", "es", "ed", "d", "ing")
_VOWELS = frozenset("aeiou")
_NOT_DOUBLED = frozenset("aeiouwxy")
T = TypeVar("T")
_MISSING = object()


class Span(NamedTuple):
    """Words ``first..last`` (inclusive) of the article, which are characters ``start..end``."""

    first: int
    last: int
    start: int
    end: int


def inflections(word: str) -> frozenset[str]:
    """Regular inflections of a word: plural, past and -ing forms ("ban" -> "bans", "banned", "banning").

    Forms that are not English words are harmless: they never occur in text.
    """
    forms = {word, *(word + suffix for suffix in _SUFFIXES)}
    lower = word.lower()
    if lower.endswith("e"):
        forms.add(word[:-1] + "ing")
    if lower.endswith("y") and len(word) > 2:
        forms.update({word[:-1] + "ies", word[:-1] + "ied"})
    if len(lower) >= 3 and lower[-1] not in _NOT_DOUBLED and lower[-2] in _VOWELS and lower[-3] not in _VOWELS:
        forms.update({word + word[-1] + "ed", word + word[-1] + "ing"})
    return frozenset(forms)


def label_token(label: str) -> str:
    """The vocabulary entry for an entity label; no word can be equal to it."""
    return f"\0{label}"


def term_words(term: str, case_sensitive: bool) -> tuple[frozenset[str], ...]:
    """A term as the accepted forms of each of its words; only the last word is inflected."""
    words = [fold(word) for word in WORD.findall(term)] if case_sensitive else term_lemmas(term)
    return tuple(frozenset({word}) for word in words[:-1]) + (inflections(words[-1]),)


def term_lemmas(term: str) -> tuple[str, ...]:
    """A term's words, lowercase (and folded): the dictionary forms an article's words must have to match it."""
    return tuple(fold(word.lower()) for word in WORD.findall(term))


class ArticleWords:
    """The article's words, their sentences, and its mentions, with per-article lookup caches."""

    def __init__(self, article: EnrichedArticle) -> None:
        self.article = article
        matches = list(WORD.finditer(article.text))
        self.exact = [fold(match.group()) for match in matches]
        self.lower = [word.lower() for word in self.exact]
        self.starts = [match.start() for match in matches]
        self.ends = [match.end() for match in matches]
        self.sentence_of = self._sentence_of_each_word()
        self._canonicals_by_name: dict[str, set[str]] = {}
        self._mentions_by_canonical: dict[str, list[int]] = {}
        self._mentions_by_label: dict[str, list[int]] = {}
        for index, mention in enumerate(article.mentions):
            for name in (mention.canonical.lower(), mention.text.lower()):
                self._canonicals_by_name.setdefault(name, set()).add(mention.canonical)
            self._mentions_by_canonical.setdefault(mention.canonical, []).append(index)
            self._mentions_by_label.setdefault(mention.label, []).append(index)
        self._cache: dict[Hashable, Any] = {}

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every word a rule could need here: the text's, its mentions' names', and a token per mention label.

        Lowercase, so a rule whose required words are all absent is skipped without evaluating it.
        """
        mentions = self.article.mentions
        names = {name.lower() for mention in mentions for name in (mention.canonical, mention.text)}
        named = {word for name in names for word in WORD.findall(name)}
        labels = {label_token(mention.label) for mention in mentions}
        return frozenset({*self.lower, *self.by_stem, *(lemma for _, lemma in self.article.lemmas), *named, *labels})

    @cached_property
    def lemma_at(self) -> dict[int, str]:
        """Word position -> its lemma, for the words whose lemma differs (the ner stage's ``lemmas``)."""
        found = {}
        for start, lemma in self.article.lemmas:
            position = bisect_left(self.starts, start)
            if position < len(self.starts) and self.starts[position] == start:
                found[position] = lemma
        return found

    @cached_property
    def by_lemma(self) -> dict[str, list[int]]:
        """Lemma -> positions of the words that have it, besides the words that are their own lemma."""
        index: defaultdict[str, list[int]] = defaultdict(list)
        for position, lemma in sorted(self.lemma_at.items()):
            index[lemma].append(position)
        return index

    @cached_property
    def by_lower(self) -> dict[str, list[int]]:
        """Word -> its positions, ignoring case."""
        return _positions(self.lower)

    @cached_property
    def by_stem(self) -> dict[str, list[int]]:
        """Word without its proclitics -> positions of the words written with them ("برفح" at "رفح")."""
        index: defaultdict[str, list[int]] = defaultdict(list)
        for position, word in enumerate(self.lower):
            for stem in stems(word):
                index[stem].append(position)
        return index

    @cached_property
    def by_exact(self) -> dict[str, list[int]]:
        """Word -> its positions, as written (built only when a rule has case-sensitive terms)."""
        return _positions(self.exact)

    def cached(self, key: Hashable, compute: Callable[..., T], *args: Any) -> T:
        """``compute(*args)`` once per article and key; callers must not modify what it returns."""
        found = self._cache.get(key, _MISSING)
        if found is _MISSING:
            found = self._cache[key] = compute(*args)
        return cast(T, found)

    def term_spans(self, forms: tuple[frozenset[str], ...], lemmas: tuple[str, ...] | None) -> list[Span]:
        """Every occurrence of a term in the article: each word in one of its ``forms`` (as written when
        ``lemmas`` is None, the case-sensitive way) or, ignoring case, having the term word as its lemma."""
        return self.cached(("term", forms, lemmas), self._find_term, forms, lemmas)

    def entity_spans(self, names: frozenset[str], labels: frozenset[str]) -> list[tuple[int, Span]]:
        """(sentence index, span) of every mention of the named entities (any, when no names) with the labels.

        A name refers to the canonical names of the mentions written that way or canonically named
        so: ``Blinken`` finds every mention of ``Antony Blinken``.
        """
        return self.cached(("entity", names, labels), self._find_entities, names, labels)

    def span_at(self, start: int, end: int) -> Span | None:
        """The words overlapping characters ``start..end``, as a span of those characters; None when no word does."""
        first, last = bisect_right(self.ends, start), bisect_left(self.starts, end) - 1
        return Span(first, last, start, end) if first <= last else None

    def sentence_spans(self, spans: list[Span]) -> dict[int, list[Span]]:
        """Spans grouped by the sentence that holds them; spans across sentences or outside any are dropped."""
        grouped: dict[int, list[Span]] = {}
        for span in spans:
            sentence = self.sentence_of[span.first]
            if sentence >= 0 and self.sentence_of[span.last] == sentence:
                grouped.setdefault(sentence, []).append(span)
        return grouped

    def _find_term(self, forms: tuple[frozenset[str], ...], lemmas: tuple[str, ...] | None) -> list[Span]:
        index, words = (self.by_exact, self.exact) if lemmas is None else (self.by_lower, self.lower)
        firsts = {position for form in forms[0] for position in index.get(form, ())}
        # A proclitic is written on the first word of a name ("وخان يونس"); stems are lowercase, and
        # the scripts that have them have no case.
        firsts.update(position for form in forms[0] for position in self.by_stem.get(form, ()))
        if lemmas is not None:
            firsts.update(self.by_lemma.get(lemmas[0], ()))

        def fits(position: int, offset: int) -> bool:
            return words[position] in forms[offset] or (
                lemmas is not None and self.lemma_at.get(position) == lemmas[offset])

        length = len(forms)
        return [
            Span(first, first + length - 1, self.starts[first], self.ends[first + length - 1])
            for first in sorted(firsts)
            if first + length <= len(words) and all(fits(first + offset, offset) for offset in range(1, length))
        ]

    def _find_entities(self, names: frozenset[str], labels: frozenset[str]) -> list[tuple[int, Span]]:
        if names:
            canonicals = {canonical for name in names for canonical in self._canonicals_by_name.get(name, ())}
            indexes = [index for canonical in canonicals for index in self._mentions_by_canonical[canonical]]
        else:
            indexes = [index for label in labels for index in self._mentions_by_label.get(label, ())]
        found = []
        for index in sorted(indexes):
            mention = self.article.mentions[index]
            if labels and mention.label not in labels:
                continue
            first, last = bisect_right(self.ends, mention.start), bisect_left(self.starts, mention.end) - 1
            if first <= last:
                found.append((mention.sentence, Span(first, last, mention.start, mention.end)))
        return found

    def _sentence_of_each_word(self) -> list[int]:
        """Index of the sentence holding each word, -1 for words outside every sentence."""
        sentence_of = [-1] * len(self.starts)
        for index, sentence in enumerate(self.article.sentences):
            for position in range(bisect_left(self.starts, sentence.start), bisect_left(self.starts, sentence.end)):
                sentence_of[position] = index
        return sentence_of


def _positions(words: list[str]) -> dict[str, list[int]]:
    index: defaultdict[str, list[int]] = defaultdict(list)
    for position, word in enumerate(words):
        index[word].append(position)
    return index
