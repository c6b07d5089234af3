"""Rule evaluation on enriched articles: pure functions, shared by the alerter and ``newsmon rules test``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsmon.services.alerter.rules import Rule
from newsmon.shared.schemas import EnrichedArticle, MatchedSentence

_WORD = re.compile(r"\w+", re.UNICODE)
_SUFFIXES = ("s", "es", "ed", "d", "ing")


@dataclass(frozen=True)
class Word:
    """A lower-cased word and its character offsets in the article text."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class RuleMatch:
    """A rule that fired, with the sentences that satisfied it."""

    rule: Rule
    sentences: list[MatchedSentence]


def inflections(word: str) -> frozenset[str]:
    """Regular inflections of a lower-cased word: plural, past and -ing forms."""
    forms = {word, *(word + suffix for suffix in _SUFFIXES)}
    if word.endswith("e"):
        forms.add(word[:-1] + "ing")
    if word.endswith("y") and len(word) > 2:
        forms.update({word[:-1] + "ies", word[:-1] + "ied"})
    return frozenset(forms)


def compile_term(term: str) -> tuple[frozenset[str], ...]:
    """A term as a sequence of accepted forms per word; the last word may be inflected."""
    words = [word.lower() for word in _WORD.findall(term)]
    return tuple(frozenset({word}) for word in words[:-1]) + (inflections(words[-1]),)


def words_in(text: str, start: int, end: int) -> list[Word]:
    """The words of ``text[start:end]`` with offsets into ``text``."""
    return [
        Word(match.group().lower(), start + match.start(), start + match.end())
        for match in _WORD.finditer(text[start:end])
    ]


def find_term(words: list[Word], term: tuple[frozenset[str], ...]) -> list[tuple[int, int]]:
    """Character spans where the term occurs in the word list."""
    spans = []
    for index in range(len(words) - len(term) + 1):
        if all(words[index + offset].text in forms for offset, forms in enumerate(term)):
            spans.append((words[index].start, words[index + len(term) - 1].end))
    return spans


class CompiledRule:
    """A rule with its terms pre-compiled, so evaluation does no parsing per article."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.groups = [[compile_term(term) for term in group.any] for group in rule.sentence.all]

    def match_sentence(self, words: list[Word]) -> list[tuple[int, int]] | None:
        """Spans of the matched terms when every group matches, else None."""
        spans: list[tuple[int, int]] = []
        for group in self.groups:
            group_spans = [span for term in group for span in find_term(words, term)]
            if not group_spans:
                return None
            spans.extend(group_spans)
        return sorted(set(spans))


def compile_rules(rules: list[Rule]) -> list[CompiledRule]:
    """Compile rules once at load time."""
    return [CompiledRule(rule) for rule in rules]


def evaluate(rules: list[CompiledRule], article: EnrichedArticle) -> list[RuleMatch]:
    """Every rule that fires on the article, with the sentences that made it fire."""
    sentence_words = [
        (sentence, words_in(article.text, sentence.start, sentence.end)) for sentence in article.sentences
    ]
    matches = []
    for compiled in rules:
        matched = [
            MatchedSentence(text=article.text[sentence.start:sentence.end].strip(), start=sentence.start,
                            end=sentence.end, matches=spans)
            for sentence, words in sentence_words
            if (spans := compiled.match_sentence(words)) is not None
        ]
        if matched:
            matches.append(RuleMatch(compiled.rule, matched))
    return matches
