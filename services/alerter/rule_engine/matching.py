"""Rule evaluation on enriched articles: pure functions, shared by the alerter and ``newsmon rules test``.

Rules are compiled once into a tree of nodes. A node evaluated on an article answers, for each
unit of its scope (each sentence for ``sentence:``, the single unit 0 for ``article:``), the
spans that satisfied it there; a unit absent from the answer does not satisfy it.

A node also tells which words it needs (``required``), so a rule whose needed words are all
absent from an article is skipped without evaluating it: with a large watchlist most rules are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from services.alerter.rule_engine.aliases import AliasTable, AliasTerm, configured_aliases
from services.alerter.rule_engine.article_words import ArticleWords, Span, label_token, term_lemmas, term_words
from services.alerter.rule_engine.conditions import (
    AliasCondition,
    AllGroup,
    AnyGroup,
    Condition,
    EntityCondition,
    EventCondition,
    NearCondition,
    NoneGroup,
    TermCondition,
)
from services.alerter.rule_engine.event_node import EventFinding, EventNode
from services.alerter.rule_engine.nodes import ARTICLE_UNIT, Node, Required, Scope, Units, all_units, by_unit
from services.alerter.rule_engine.rules import Rule
from services.alerter.rule_engine.sentence_parse import SentenceParser, configured_parser
from services.alerter.rule_engine.terms import NEAR_SHORTHAND, CaseMode
from shared.schemas import WORD, EnrichedArticle, MatchedEvent, MatchedSentence


@dataclass(frozen=True)
class RuleMatch:
    """A rule that fired, with the sentences that satisfied it and, for a rule with event conditions,
    the event of each sentence that had one (None for rules without)."""

    rule: Rule
    sentences: list[MatchedSentence]
    events: list[MatchedEvent] | None = None


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


class _Compiler:
    """Turns conditions into nodes, with the alias sets and the sentence parser they may need."""

    def __init__(self, aliases: AliasTable, parser: SentenceParser) -> None:
        self.aliases = aliases
        self.parser = parser
        self.event_nodes: list[EventNode] = []

    def node(self, condition: Condition, case: CaseMode) -> Node:
        """The node for a condition; ``case`` is inherited from the enclosing group or rule."""
        if isinstance(condition, str):
            if shorthand := NEAR_SHORTHAND.match(condition):
                return NearNode(TermNode(shorthand["left"], case, None), TermNode(shorthand["right"], case, None),
                                int(shorthand["words"]))
            return TermNode(condition, case, None)
        if isinstance(condition, TermCondition):
            return TermNode(condition.term, condition.case or case, condition.min_mentions)
        if isinstance(condition, EntityCondition):
            return EntityNode(condition)
        if isinstance(condition, AliasCondition):
            return AnyNode([self._alias_term(entry, case) for name in condition.names
                            for entry in self._alias_set(name)], None)
        if isinstance(condition, EventCondition):
            return self._event(condition)
        inner = getattr(condition, "case", None) or case
        if isinstance(condition, AnyGroup):
            return AnyNode([self.node(member, inner) for member in condition.any], condition.min_mentions)
        if isinstance(condition, AllGroup):
            return AllNode([self.node(member, inner) for member in condition.all])
        if isinstance(condition, NoneGroup):
            return NoneNode([self.node(member, inner) for member in condition.none])
        if isinstance(condition, NearCondition):
            left, right = (self.node(member, inner) for member in condition.near)
            return NearNode(left, right, condition.within)
        raise TypeError(f"not a condition: {condition!r}")

    def _event(self, condition: EventCondition) -> EventNode:
        spec = condition.event
        # Event words are matched on lemmas, ignoring case: the parse decides how they relate.
        objects = AnyNode([TermNode(term, "insensitive", None) for term in spec.object], None)
        target = self.node(spec.target, "insensitive") if spec.target is not None else None
        source = self.node(spec.source, "insensitive") if spec.source is not None else None
        node = EventNode(spec, objects, target, source, self.parser)
        self.event_nodes.append(node)
        return node

    def _alias_set(self, name: str) -> tuple[str | AliasTerm, ...]:
        try:
            return self.aliases[name]
        except KeyError:
            raise ValueError(f"unknown alias set {name!r}; known: {', '.join(sorted(self.aliases))}") from None

    @staticmethod
    def _alias_term(entry: str | AliasTerm, case: CaseMode) -> TermNode:
        return TermNode(entry, case, None) if isinstance(entry, str) else TermNode(entry.term, entry.case, None)


class CompiledRule:
    """A rule with its conditions compiled, so evaluation does no rule parsing per article.

    ``aliases`` and ``parser`` default to the process's configured ones (``NEWSMON_ALIASES_PATH``,
    ``NEWSMON_SPACY_MODEL``); the parser loads its model only when an event condition first needs it.
    """

    def __init__(self, rule: Rule, aliases: AliasTable | None = None, parser: SentenceParser | None = None) -> None:
        self.rule = rule
        compiler = _Compiler(configured_aliases() if aliases is None else aliases,
                             configured_parser() if parser is None else parser)
        self.sentence = compiler.node(rule.sentence, rule.case) if rule.sentence is not None else None
        self.article = compiler.node(rule.article, rule.case) if rule.article is not None else None
        self.event_nodes = compiler.event_nodes
        self.sources = [pattern.lower() for pattern in rule.sources]
        self.tags = frozenset(tag.lower() for tag in rule.tags)
        self.required = tuple(words for node in (self.sentence, self.article) if node is not None
                              for words in node.required())

    def may_fire(self, vocabulary: frozenset[str]) -> bool:
        """False when the article lacks every word of some set the rule needs: it cannot fire there."""
        return all(not needed.isdisjoint(vocabulary) for needed in self.required)

    def accepts(self, article: EnrichedArticle) -> bool:
        """The source and tag filters."""
        if self.tags and not self.tags & {tag.lower() for tag in article.tags}:
            return False
        return not self.sources or _source_matches(self.sources, [article.source, article.url or ""])

    def match(self, words: ArticleWords) -> list[MatchedSentence] | None:
        """The matched sentences when the rule fires on the article, else None."""
        units = self._units(words)
        return None if units is None else _matched_sentences(words, units)

    def fire(self, words: ArticleWords) -> RuleMatch | None:
        """The match, with the events that held in its sentences, when the rule fires; else None."""
        units = self._units(words)
        if units is None:
            return None
        return RuleMatch(self.rule, _matched_sentences(words, units), self.events(words, units.keys()))

    def events(self, words: ArticleWords, sentences: Iterable[int]) -> list[MatchedEvent] | None:
        """The first kept event of each of ``sentences``; None for a rule without event conditions."""
        if not self.event_nodes:
            return None
        kept: dict[int, EventFinding] = {}
        for node in self.event_nodes:
            for finding in node.findings(words):
                if finding.rejected is None:
                    kept.setdefault(finding.sentence, finding)
        return [kept[index].explained(words) for index in sorted(set(sentences)) if index in kept]

    def rejected_events(self, words: ArticleWords) -> list[EventFinding]:
        """The events the rule's event conditions found and rejected, with the reasons (for ``rules eval``)."""
        return [finding for node in self.event_nodes for finding in node.findings(words)
                if finding.rejected is not None]

    def _units(self, words: ArticleWords) -> Units | None:
        article = words.article
        if not self.accepts(article):
            return None
        article_spans: list[Span] = []
        if self.article is not None:
            found = self.article.evaluate(words, "article")
            if not found:
                return None
            article_spans = found[ARTICLE_UNIT]
        if self.sentence is None:
            return words.sentence_spans(article_spans)
        units = dict(self.sentence.evaluate(words, "sentence"))  # a copy: node results may be cached
        if not units:
            return None
        for sentence, spans in words.sentence_spans(article_spans).items():
            if sentence in units:
                units[sentence] = units[sentence] + spans
        return units


def _source_matches(patterns: list[str], candidates: Iterable[str]) -> bool:
    """A glob matches the whole source or URL; a pattern without wildcards matches anywhere in it."""
    lowered = [candidate.lower() for candidate in candidates if candidate]
    return any(
        fnmatchcase(candidate, pattern) if any(char in pattern for char in "*?[") else pattern in candidate
        for pattern in patterns
        for candidate in lowered
    )


def _matched_sentences(words: ArticleWords, units: Units) -> list[MatchedSentence]:
    article = words.article
    matched = []
    for index in sorted(units):
        sentence = article.sentences[index]
        offsets = sorted({(span.start, span.end) for span in units[index]})
        matched.append(MatchedSentence(text=article.text[sentence.start:sentence.end].strip(), start=sentence.start,
                                       end=sentence.end, matches=offsets))
    return matched


def compile_rules(rules: list[Rule], aliases: AliasTable | None = None,
                  parser: SentenceParser | None = None) -> list[CompiledRule]:
    """Compile rules once at load time (aliases and parser: the configured ones unless given)."""
    return [CompiledRule(rule, aliases, parser) for rule in rules]


def evaluate(rules: list[CompiledRule], article: EnrichedArticle) -> list[RuleMatch]:
    """Every rule that fires on the article, with the sentences (and events) that made it fire."""
    words = ArticleWords(article)
    matches = []
    for compiled in rules:
        if compiled.may_fire(words.vocabulary) and (match := compiled.fire(words)) is not None:
            matches.append(match)
    return matches
