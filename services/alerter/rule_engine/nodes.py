"""What compiled conditions exchange: scopes, per-unit results, the words they need, and the node protocol.

A node evaluated on an article answers, for each unit of its scope (each sentence for
``sentence:``, the single unit 0 for ``article:``), the spans that satisfied it there; a unit
absent from the answer does not satisfy it. ``required`` tells which words it needs, so a rule
whose needed words an article lacks is skipped without evaluating it.
"""

from __future__ import annotations

from typing import Literal, Protocol

from services.alerter.rule_engine.article_words import ArticleWords, Span

Scope = Literal["sentence", "article"]
Units = dict[int, list[Span]]
# Sets of lowercase words (or label tokens); an article must hold a word of each for the node to match.
# Empty when nothing is known, which never skips anything.
Required = tuple[frozenset[str], ...]
ARTICLE_UNIT = 0


class Node(Protocol):
    """A compiled condition."""

    def evaluate(self, words: ArticleWords, scope: Scope) -> Units: ...

    def required(self) -> Required: ...


def by_unit(words: ArticleWords, spans: list[Span], scope: Scope) -> Units:
    """Spans grouped by sentence, or all in the article's one unit."""
    return words.sentence_spans(spans) if scope == "sentence" else ({ARTICLE_UNIT: spans} if spans else {})


def all_units(words: ArticleWords, scope: Scope) -> range:
    return range(len(words.article.sentences)) if scope == "sentence" else range(1)
