"""Compiled conditions: the node protocol, what nodes exchange, and the nodes of terms, entities and groups.

A node evaluated on an article answers, for each unit of its scope (each sentence for
``sentence:``, the single unit 0 for ``article:``), the spans that satisfied it there; a unit
absent from the answer does not satisfy it. ``required`` tells which words it needs, so a rule
whose needed words an article lacks is skipped without evaluating it. The event node is
``events/node.py``; compiling conditions into nodes is ``matching.py``.
"""

from __future__ import annotations

from typing import Literal, Protocol

from services.alerter.rule_engine.article_words import ArticleWords, Span, label_token, term_lemmas, term_words
from services.alerter.rule_engine.conditions import EntityCondition
from services.alerter.rule_engine.terms import CaseMode
from shared.schemas import WORD

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


class TermNode:
    """A word or phrase in any of its accepted forms."""

    def __init__(self, text: str, case: CaseMode, min_mentions: int | None) -> None:
        sensitive = case == "sensitive"
        self.forms = term_words(text, sensitive)
        self.lemmas = None if sensitive else term_lemmas(text)  # a lemma says nothing about case
        self.min_mentions = min_mentions or 1
        self.keys = {scope: ("term-units", self.forms, self.lemmas, self.min_mentions, scope)
                     for scope in ("sentence", "article")}

    def evaluate(self, words: ArticleWords, scope: Scope) -> Units:
        return words.cached(self.keys[scope], self._units, words, scope)

    def required(self) -> Required:
        return (frozenset(form.lower() for form in self.forms[0]),)

    def _units(self, words: ArticleWords, scope: Scope) -> Units:
        spans = words.term_spans(self.forms, self.lemmas)
        return by_unit(words, spans, scope) if len(spans) >= self.min_mentions else {}


class EntityNode:
    """Mentions of named entities and/or entity labels."""

    def __init__(self, condition: EntityCondition) -> None:
        self.names = frozenset(name.lower() for name in condition.names)
        self.labels = frozenset(condition.labels)
        self.min_mentions = condition.min_mentions or 1
        self.keys = {scope: ("entity-units", self.names, self.labels, self.min_mentions, scope)
                     for scope in ("sentence", "article")}

    def evaluate(self, words: ArticleWords, scope: Scope) -> Units:
        return words.cached(self.keys[scope], self._units, words, scope)

    def required(self) -> Required:
        """A name is one mention's text or canonical name, so its first word is in the vocabulary."""
        if self.names:
            firsts = [WORD.findall(name)[:1] for name in self.names]
            return (frozenset(first[0] for first in firsts),) if all(firsts) else ()
        return (frozenset(label_token(label) for label in self.labels),) if self.labels else ()

    def _units(self, words: ArticleWords, scope: Scope) -> Units:
        found = words.entity_spans(self.names, self.labels)
        if len(found) < self.min_mentions:
            return {}
        if scope == "article":
            return {ARTICLE_UNIT: [span for _, span in found]} if found else {}
        units: Units = {}
        for sentence, span in found:
            units.setdefault(sentence, []).append(span)
        return units


class AnyNode:
    """At least one member; every member's spans are kept, so the alert shows all that matched."""

    def __init__(self, members: list[Node], min_mentions: int | None) -> None:
        self.members = members
        self.min_mentions = min_mentions or 1

    def evaluate(self, words: ArticleWords, scope: Scope) -> Units:
        units: Units = {}
        for member in self.members:
            for unit, spans in member.evaluate(words, scope).items():
                units.setdefault(unit, []).extend(spans)
        return units if sum(map(len, units.values())) >= self.min_mentions else {}

    def required(self) -> Required:
        """A word of some member: the union of each member's narrowest set."""
        needs = [member.required() for member in self.members]
        if not needs or not all(needs):
            return ()
        return (frozenset().union(*(min(need, key=len) for need in needs)),)


class AllNode:
    """Every member in the same unit; members that match words are evaluated first, and stop early."""

    def __init__(self, members: list[Node]) -> None:
        self.members = sorted(members, key=lambda member: isinstance(member, NoneNode))

    def evaluate(self, words: ArticleWords, scope: Scope) -> Units:
        units: Units | None = None
        for member in self.members:
            found = member.evaluate(words, scope)
            units = found if units is None else {unit: units[unit] + found[unit] for unit in units if unit in found}
            if not units:
                return {}
        return units or {}

    def required(self) -> Required:
        return tuple(words for member in self.members for words in member.required())


class NoneNode:
    """No member, in that unit; it matches no words, so it contributes no spans."""

    def __init__(self, members: list[Node]) -> None:
        self.any = AnyNode(members, None)

    def evaluate(self, words: ArticleWords, scope: Scope) -> Units:
        present = self.any.evaluate(words, scope)
        return {unit: [] for unit in all_units(words, scope) if unit not in present}

    def required(self) -> Required:
        return ()  # it matches where its members are absent


class NearNode:
    """Two members with at most ``within`` words between them, in the same unit."""

    def __init__(self, left: Node, right: Node, within: int) -> None:
        self.left, self.right, self.within = left, right, within

    def evaluate(self, words: ArticleWords, scope: Scope) -> Units:
        lefts = self.left.evaluate(words, scope)
        if not lefts:
            return {}
        rights = self.right.evaluate(words, scope)
        units: Units = {}
        for unit in lefts.keys() & rights.keys():
            close = {span for a in lefts[unit] for b in rights[unit] if _gap(a, b) <= self.within for span in (a, b)}
            if close:
                units[unit] = sorted(close)
        return units

    def required(self) -> Required:
        return self.left.required() + self.right.required()


def _gap(a: Span, b: Span) -> int:
    """Words strictly between two spans (0 when they touch or overlap)."""
    return max(b.first - a.last - 1, a.first - b.last - 1, 0)
